#!/usr/bin/env node
// select_bodies.mjs -- AuthZEN request bodies for the wrk runs, checked
// against the running server.
//
//   node select_bodies.mjs --url http://127.0.0.1:PORT --key ztg_... \
//        --requests requests_10k.json --out DIR [--per-decision 64]
//
// Converts the Cedar benchmark requests (bench/inputs/generate.mjs) to AuthZEN
// evaluation bodies (subject/action/resource/context; the context's
// source_ip extension value becomes its plain string, which the benchmark
// policies read as ip(context.source_ip)), evaluates every one on the server
// once, and keeps up to --per-decision allows and as many denies, interleaved
// (allow, deny, allow, ...). Writes into DIR:
//   single.lua   Lua array of evaluation bodies (for authzen.lua and nginx)
//   batch.lua    Lua array of /access/v1/evaluations bodies, 10 items each,
//                cut from the same interleaved list
//   selection.json  counts, and the allow share of the kept bodies
// Fails (exit 1) on any non-200 answer, or on a batch whose decisions differ
// from the single ones: the benchmark must time real decisions, not errors.
import fs from 'node:fs';
import path from 'node:path';

const opt = { url: null, key: '', requests: null, out: null, perDecision: 64 };
for (let i = 2; i < process.argv.length; i += 2) {
  const a = process.argv[i], v = process.argv[i + 1];
  if (a === '--url') opt.url = v;
  else if (a === '--key') opt.key = v;
  else if (a === '--requests') opt.requests = v;
  else if (a === '--out') opt.out = v;
  else if (a === '--per-decision') opt.perDecision = parseInt(v, 10);
  else { console.error(`unknown option ${a}`); process.exit(2); }
}
if (!opt.url || !opt.requests || !opt.out) {
  console.error('usage: select_bodies.mjs --url URL --key KEY --requests FILE --out DIR [--per-decision N]');
  process.exit(2);
}

function plain(v) {  // Cedar JSON value -> plain JSON (extension values -> their argument)
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    if (v.__extn) return v.__extn.arg;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
const toAuthzen = (r) => ({
  subject: { type: r.principal.type, id: r.principal.id },
  action: { name: r.action.id },
  resource: { type: r.resource.type, id: r.resource.id },
  context: plain(r.context ?? {}),
});

async function post(p, body) {
  const res = await fetch(opt.url + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opt.key ? { authorization: `Bearer ${opt.key}` } : {}) },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

const all = JSON.parse(fs.readFileSync(opt.requests, 'utf8')).map(toAuthzen);
const allow = [], deny = [];
for (const req of all) {
  const body = JSON.stringify(req);
  const d = await post('/access/v1/evaluation', body);
  (d.decision === true ? allow : deny).push({ body, req, decision: d.decision });
}
const n = Math.min(opt.perDecision, allow.length, deny.length);
if (n === 0) { console.error(`no mix: ${allow.length} allows, ${deny.length} denies`); process.exit(1); }
const kept = [];
for (let i = 0; i < n; i++) kept.push(allow[i], deny[i]);

const batches = [];
for (let i = 0; i + 10 <= kept.length; i += 10) {
  const items = kept.slice(i, i + 10);
  const body = JSON.stringify({ evaluations: items.map((k) => k.req) });
  const r = await post('/access/v1/evaluations', body);
  const got = (r.evaluations ?? []).map((e) => e.decision);
  const want = items.map((k) => k.decision);
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    console.error(`batch ${batches.length}: decisions ${JSON.stringify(got)} != single ${JSON.stringify(want)}`);
    process.exit(1);
  }
  batches.push(body);
}

const lua = (list) => 'return {\n' + list.map((b) => `  ${JSON.stringify(b)},`).join('\n') + '\n}\n';
fs.mkdirSync(opt.out, { recursive: true });
fs.writeFileSync(path.join(opt.out, 'single.lua'), lua(kept.map((k) => k.body)));
fs.writeFileSync(path.join(opt.out, 'batch.lua'), lua(batches));
const summary = {
  evaluated: all.length, allows: allow.length, denies: deny.length,
  kept: kept.length, kept_allow_share: 0.5, batches: batches.length,
  mean_body_bytes: Math.round(kept.reduce((s, k) => s + k.body.length, 0) / kept.length),
  mean_batch_bytes: Math.round(batches.reduce((s, b) => s + b.length, 0) / batches.length),
};
fs.writeFileSync(path.join(opt.out, 'selection.json'), JSON.stringify(summary, null, 1) + '\n');
console.log(JSON.stringify(summary));
