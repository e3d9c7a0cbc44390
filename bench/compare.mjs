// compare.mjs -- prints ztgate's Cedar engine next to cedar-wasm for the same
// inputs, as the Markdown table docs/PERFORMANCE.md shows.
//   node bench/compare.mjs NATIVE.json WASM.json
// NATIVE.json: build/bench/cedar_bench --benchmark_out=... --benchmark_out_format=json
// WASM.json:   node bench/wasm/bench.mjs --out ...
import fs from 'node:fs';

const [nativeFile, wasmFile] = process.argv.slice(2);
if (!nativeFile || !wasmFile) {
  console.error('usage: node bench/compare.mjs NATIVE.json WASM.json');
  process.exit(2);
}
const native = JSON.parse(fs.readFileSync(nativeFile, 'utf8'));
const wasm = JSON.parse(fs.readFileSync(wasmFile, 'utf8'));

const ours = new Map();
for (const b of native.benchmarks) {
  const m = /^Authorize\/policies:(\d+)\/entities:(\w+)/.exec(b.name);
  if (m && b.run_type !== 'aggregate') ours.set(`${m[1]}/${m[2]}`, b);
}
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
console.log('| policies | entities | ztgate median / p99 (µs) | cedar-wasm per-request slice median / p99 (µs) | speed-up (median / p99) | cedar-wasm whole store, median (µs) |');
console.log('| --- | --- | --- | --- | --- | --- |');
let worst = Infinity;
for (const r of wasm.results) {
  const b = ours.get(`${r.policies}/${r.entities}`);
  if (!b || !r.slice) continue;
  const sm = r.slice.median_us, sp = r.slice.p99_us;
  const ratioMedian = sm / b.median_us, ratioP99 = sp / b.p99_us;
  worst = Math.min(worst, ratioMedian, ratioP99);
  const whole = r.stateful ? fmt(r.stateful.median_us) : 'n/a';
  console.log(`| ${r.policies} | ${r.entities} | ${fmt(b.median_us)} / ${fmt(b.p99_us)} | ${fmt(sm)} / ${fmt(sp)} | ${ratioMedian.toFixed(0)}× / ${ratioP99.toFixed(0)}× | ${whole} |`);
}
console.log(`\nsmallest speed-up over cedar-wasm's cheapest mode: ${worst.toFixed(0)}×`);
if (!(worst >= 10)) {
  console.error('target missed: ztgate must be at least 10x faster than cedar-wasm on every set');
  process.exit(1);
}
