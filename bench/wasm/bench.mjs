#!/usr/bin/env node
// bench.mjs -- latency baseline of the official Cedar engine (cedar-wasm 4.13.0
// in Node) on the benchmark inputs from bench/inputs/generate.mjs.
//
// Usage:
//   (cd tests/differential && npm ci)                 # installs cedar-wasm 4.13.0
//   node bench/inputs/generate.mjs --out bench/inputs/out
//   node --expose-gc bench/wasm/bench.mjs [--inputs bench/inputs/out] [--out results.json]
//        [--iters-10k 20] [--iters-100k 3] [--slice-requests 1000] [--quick]
//
// For each (policy set, entity store) pair it times, per request:
//   stateful   statefulIsAuthorized() with the policy set preparsed ONCE
//              (preparsePolicySet).  cedar-wasm has no way to preload entities:
//              StatefulAuthorizationCall only caches policy sets and schemas, and
//              `entities` is a required JSON array.  So every call includes
//              JS JSON.stringify of the whole store (the wasm-bindgen glue
//              serialises the call object), serde parsing of it in wasm, building
//              the Entities (incl. transitive closure of the hierarchy), the
//              context, and the evaluation.  Only policy parsing is excluded.
//   full       isAuthorized(): everything above plus parsing the policy text.
//   slice      statefulIsAuthorized() with a per-request entity slice instead of
//              the whole store: principal, action, resource, the entities their
//              attributes reference (on_behalf_of, owner), and the transitive
//              ancestors of all of these.  This is how one would use cedar-wasm
//              in practice.  Building the slice (JS, store indexed once) is NOT in
//              the timed call; its cost is reported separately.  Slice decisions
//              are cross-checked against full-store decisions where both exist.
// No schema anywhere (validateRequest: false).  Full-store modes use few
// iterations because one call costs ~0.3 s (10k) to ~4 s (100k); percentiles
// over few samples are rough (p99 of n<100 samples is the maximum).
// The results JSON also records each request's decision per pair (from the
// slice mode), so a native engine can be checked against the same inputs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCedar } from '../../tests/differential/lib/common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { inputs: path.join(here, '..', 'inputs', 'out'), out: null, iters10k: 20, iters100k: 3, sliceRequests: 1000, wasm: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => process.argv[++i];
  switch (a) {
    case '--inputs': opt.inputs = next(); break;
    case '--out': opt.out = next(); break;
    case '--iters-10k': opt.iters10k = parseInt(next(), 10); break;
    case '--iters-100k': opt.iters100k = parseInt(next(), 10); break;
    case '--slice-requests': opt.sliceRequests = parseInt(next(), 10); break;
    case '--quick': opt.iters10k = 5; opt.iters100k = 1; opt.sliceRequests = 200; break;
    case '--wasm': opt.wasm = next(); break;
    case '-h': case '--help': {
      const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    }
    default: console.error(`unknown option ${a}`); process.exit(2);
  }
}
const cedar = loadCedar(opt.wasm, import.meta.url);
const read = (f) => fs.readFileSync(path.join(opt.inputs, f), 'utf8');
if (!fs.existsSync(path.join(opt.inputs, 'policies_10.cedar'))) {
  console.error(`no inputs in ${opt.inputs}; run: node bench/inputs/generate.mjs --out ${opt.inputs}`);
  process.exit(2);
}

// ---------------------------------------------------------------- timing helpers
const now = () => process.hrtime.bigint();
const usSince = (t) => Number(now() - t) / 1e3;
function summarize(us) {
  const s = Float64Array.from(us).sort();
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median_us: round(at(0.5)), p99_us: round(at(0.99)), mean_us: round(s.reduce((a, b) => a + b, 0) / s.length),
    min_us: round(s[0]), max_us: round(s[s.length - 1]) };
}
const round = (x) => Math.round(x * 10) / 10;
const gc = () => globalThis.gc && globalThis.gc();
const fmt = (x) => (x >= 10000 ? `${(x / 1000).toFixed(0)} ms` : `${x.toFixed(0)} us`).padStart(9);

// ---------------------------------------------------------------- entity slices
const key = (u) => `${u.type}::${u.id}`;
function indexStore(ents) { return new Map(ents.map((e) => [key(e.uid), e])); }
function refsIn(v, out) {                      // entity references inside an attribute value
  if (Array.isArray(v)) { for (const x of v) refsIn(x, out); return; }
  if (v && typeof v === 'object') {
    if (v.__entity) { out.push(v.__entity); return; }
    if (v.__extn) return;
    for (const x of Object.values(v)) refsIn(x, out);
  }
}
function slice(index, req) {
  const seen = new Map();
  const addWithAncestors = (u) => {
    const stack = [u];
    while (stack.length) {
      const k = key(stack.pop());
      if (seen.has(k)) continue;
      const e = index.get(k);
      seen.set(k, e);
      if (e) stack.push(...e.parents);
    }
  };
  for (const u of [req.principal, req.action, req.resource]) {
    addWithAncestors(u);
    const e = index.get(key(u));
    if (e) { const refs = []; refsIn(e.attrs, refs); refs.forEach(addWithAncestors); }
  }
  const refs = [];
  refsIn(req.context, refs);
  refs.forEach(addWithAncestors);
  return [...seen.values()].filter(Boolean);
}

// ---------------------------------------------------------------- main
const call = (r, entities, extra) => ({ principal: r.principal, action: r.action, resource: r.resource, context: r.context,
  validateRequest: false, entities, ...extra });
const outcome = (a) => (a.type !== 'success' ? 'F' : (a.response.decision === 'allow' ? 'A' : 'D') + (a.response.diagnostics.errors.length ? '!' : ''));

const meta = {
  cedarWasm: cedar.getCedarSDKVersion(), cedarLang: cedar.getCedarLangVersion(), node: process.version,
  cpu: `${os.cpus()[0]?.model} x${os.cpus().length}`, date: new Date().toISOString(), exposeGc: !!globalThis.gc,
  modes: {
    stateful: 'statefulIsAuthorized, policy set preparsed once; per call: JS stringify + wasm parse of ALL entities, entity graph build, context, eval',
    full: 'isAuthorized; per call: policy text parse + everything in stateful',
    slice: 'statefulIsAuthorized with a per-request entity slice (request entities, attribute-referenced entities, all their ancestors); slice building excluded',
  },
};
console.log(`cedar-wasm ${meta.cedarWasm} (lang ${meta.cedarLang}), node ${meta.node}, ${meta.cpu}${meta.exposeGc ? '' : ' (run with --expose-gc for steadier numbers)'}`);
console.log('cedar-wasm API: no call preloads entities (StatefulAuthorizationCall caches only policy sets and schemas),');
console.log('so every full-store call re-sends and re-parses the whole store. Modes:');
for (const [k, v] of Object.entries(meta.modes)) console.log(`  ${k.padEnd(8)} ${v}`);

// fixed cost of one call: trivial policy, no entities
cedar.preparsePolicySet('floor', { staticPolicies: 'permit(principal, action, resource);' });
{
  const r = { principal: { type: 'User', id: 'u' }, action: { type: 'Action', id: 'read' }, resource: { type: 'Document', id: 'd' }, context: {} };
  for (let i = 0; i < 200; i++) cedar.statefulIsAuthorized(call(r, [], { preparsedPolicySetId: 'floor' }));
  const us = [];
  for (let i = 0; i < 2000; i++) { const t = now(); cedar.statefulIsAuthorized(call(r, [], { preparsedPolicySetId: 'floor' })); us.push(usSince(t)); }
  meta.floor = summarize(us);
  console.log(`floor (trivial policy, no entities, empty context): median ${meta.floor.median_us} us, p99 ${meta.floor.p99_us} us`);
}

const policySets = [10, 100, 1000].map((n) => {
  const text = read(`policies_${n}.cedar`);
  const t = now();
  const pp = cedar.preparsePolicySet(`p${n}`, { staticPolicies: text });
  if (pp.type !== 'success') throw new Error(`policies_${n}.cedar does not parse: ${pp.errors.map((e) => e.message).join(' | ')}`);
  return { n, text, id: `p${n}`, preparse_us: round(usSince(t)) };
});
console.log(`preparsePolicySet (once): ${policySets.map((p) => `${p.n} policies ${fmt(p.preparse_us).trim()}`).join(', ')}`);

const results = [];
const t0 = now();
for (const [label, iters] of [['10k', opt.iters10k], ['100k', opt.iters100k]]) {
  const ents = JSON.parse(read(`entities_${label}.json`));
  const reqs = JSON.parse(read(`requests_${label}.json`));
  const index = indexStore(ents);
  let t = now();
  const storeJsonLen = JSON.stringify(ents).length;
  const stringify_us = round(usSince(t));
  // The first full-store call is much slower (wasm memory growth, tier-up); time it separately.
  t = now();
  cedar.statefulIsAuthorized(call(reqs[0], ents, { preparsedPolicySetId: policySets[0].id }));
  const cold_us = round(usSince(t));
  console.log(`\nentities_${label}: ${ents.length} entities, ${(storeJsonLen / 1e6).toFixed(1)} MB JSON; JS JSON.stringify of the store ${fmt(stringify_us).trim()}; ` +
    `first (cold) full-store call ${fmt(cold_us).trim()}`);
  // slices once per store (they do not depend on the policy set)
  const nSlice = Math.min(opt.sliceRequests, reqs.length);
  const sliceUs = [], slices = [];
  for (let i = 0; i < nSlice; i++) { t = now(); slices.push(slice(index, reqs[i])); sliceUs.push(usSince(t)); }
  const sliceBuild = summarize(sliceUs);
  const sliceSize = summarize(slices.map((s) => s.length));
  console.log(`  slice building (JS, not timed below): median ${sliceBuild.median_us} us; slice size median ${sliceSize.median_us} entities, max ${sliceSize.max_us}`);
  console.log(`  ${'policies'.padEnd(9)} ${'mode'.padEnd(9)} ${'n'.padStart(5)} ${'median'.padStart(9)} ${'p99'.padStart(9)}   decisions (slice mode)   [p99 = max when n < 100]`);

  for (const ps of policySets) {
    const row = { policies: ps.n, entities: label, storeEntities: ents.length, storeJsonBytes: storeJsonLen, stringify_us, cold_us,
      preparse_us: ps.preparse_us, sliceBuild, sliceSize };
    // slice mode: every request
    for (let i = 0; i < Math.min(50, nSlice); i++) cedar.statefulIsAuthorized(call(reqs[i], slices[i], { preparsedPolicySetId: ps.id }));
    gc();
    const sliceOut = [], us = [];
    for (let i = 0; i < nSlice; i++) {
      t = now();
      const a = cedar.statefulIsAuthorized(call(reqs[i], slices[i], { preparsedPolicySetId: ps.id }));
      us.push(usSince(t));
      sliceOut.push(outcome(a));
    }
    row.slice = summarize(us);
    row.decisions = sliceOut.join('');           // A allow, D deny, ! some policy errored, F call failed
    row.mix = { allow: sliceOut.filter((d) => d[0] === 'A').length, deny: sliceOut.filter((d) => d[0] === 'D').length,
      withErrors: sliceOut.filter((d) => d.endsWith('!')).length, failed: sliceOut.filter((d) => d === 'F').length };
    // full-store modes: few iterations, cross-checking the slice decisions
    let agree = 0, checked = 0;
    for (const [mode, n] of [['stateful', iters], ['full', Math.max(1, Math.ceil(iters / 2))]]) {
      gc();
      const us2 = [];
      for (let i = 0; i < n; i++) {
        const r = reqs[i % reqs.length];
        t = now();
        const a = mode === 'stateful'
          ? cedar.statefulIsAuthorized(call(r, ents, { preparsedPolicySetId: ps.id }))
          : cedar.isAuthorized(call(r, ents, { policies: { staticPolicies: ps.text } }));
        us2.push(usSince(t));
        if (i < nSlice) { checked++; if (outcome(a) === sliceOut[i]) agree++; }
      }
      row[mode] = summarize(us2);
    }
    row.sliceAgreement = { checked, agree };
    results.push(row);
    const mix = `allow ${row.mix.allow}, deny ${row.mix.deny} (${row.mix.withErrors} with errors${row.mix.failed ? `, ${row.mix.failed} FAILED` : ''})`;
    for (const mode of ['stateful', 'full', 'slice']) {
      const s = row[mode];
      console.log(`  ${String(ps.n).padEnd(9)} ${mode.padEnd(9)} ${String(s.n).padStart(5)} ${fmt(s.median_us)} ${fmt(s.p99_us)}` +
        (mode === 'slice' ? `   ${mix}; slice == full-store on ${agree}/${checked}` : ''));
    }
  }
}
const totalS = Number(now() - t0) / 1e9;
console.log(`\ntotal ${totalS.toFixed(0)} s`);
if (opt.out) {
  fs.writeFileSync(opt.out, JSON.stringify({ meta: { ...meta, inputs: path.resolve(opt.inputs), iters10k: opt.iters10k, iters100k: opt.iters100k, totalSeconds: round(totalS) }, results }, null, 1) + '\n');
  console.log(`results -> ${opt.out}`);
}
