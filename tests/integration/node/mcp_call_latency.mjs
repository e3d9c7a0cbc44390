// mcp_call_latency.mjs -- (bench/mcp/call_latency.sh) tools/call latency: the official MCP TypeScript SDK
// client calling a test server's tool directly, and the same client calling
// the same tool through ztgate, interleaved in rounds in one process (the
// client's own cost is the same on both paths, so the difference is what
// the gateway adds).
//
//   node mcp_call_latency.mjs DIRECT_URL DIRECT_TOKEN GATEWAY_URL GATEWAY_TOKEN [CALLS=2000] [ROUNDS=4]
// Prints p50/p90/p99/mean per path and the added latency, as JSON last.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [directUrl, directToken, gwUrl, gwToken, callsArg, roundsArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 2000), rounds = Number(roundsArg ?? 4);

async function connect(url, token) {
  const t = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const c = new Client({ name: 'ztgate-bench', version: '1.0.0' });
  await c.connect(t);
  return c;
}
const direct = await connect(directUrl, directToken);
const gateway = await connect(gwUrl, gwToken);
const paths = [
  { name: 'direct', client: direct, tool: 'search_docs', samples: [] },
  { name: 'ztgate', client: gateway, tool: 'docs__search_docs', samples: [] },
];
for (const p of paths)  // warm-up: connections, JIT, caches
  for (let i = 0; i < 200; i++) await p.client.callTool({ name: p.tool, arguments: { query: 'warm' } });
for (let r = 0; r < rounds; r++)
  for (const p of r % 2 ? [...paths].reverse() : paths)
    for (let i = 0; i < calls / rounds; i++) {
      const t0 = process.hrtime.bigint();
      const res = await p.client.callTool({ name: p.tool, arguments: { query: `q${i}` } });
      p.samples.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (res.isError) throw new Error(`${p.name}: tool error`);
    }
const stats = (s) => {
  const v = [...s].sort((a, b) => a - b);
  const q = (f) => v[Math.min(v.length - 1, Math.floor(f * v.length))];
  return { n: v.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: v.reduce((a, b) => a + b, 0) / v.length };
};
const out = Object.fromEntries(paths.map((p) => [p.name, stats(p.samples)]));
out.added = { p50: out.ztgate.p50 - out.direct.p50, p99: out.ztgate.p99 - out.direct.p99 };
for (const p of paths)
  console.log(`${p.name.padEnd(7)} p50 ${out[p.name].p50.toFixed(0)} µs  p90 ${out[p.name].p90.toFixed(0)} µs  p99 ${out[p.name].p99.toFixed(0)} µs  mean ${out[p.name].mean.toFixed(0)} µs`);
console.log(`added   p50 ${out.added.p50.toFixed(0)} µs (target < 500)  p99 ${out.added.p99.toFixed(0)} µs (target < 2000)`);
console.log(JSON.stringify(out));
await direct.close();
await gateway.close();
