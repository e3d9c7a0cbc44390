#!/usr/bin/env node
// verify.mjs -- replay generated differential tests from disk through cedar-wasm.
//
// Checks that the files written by generate.mjs are self-consistent: they
// parse back (integers exact), and cedar-wasm reproduces every expected
// decision / reason / errors when fed what is on disk.  It is also a compact
// reference for how a schema-less test must be interpreted.
//
// Usage: node verify.mjs DIR [--stateful] [--wasm /abs/path/cedar_wasm.js]
//   --stateful   preparse each policy set once and use statefulIsAuthorized
//                (same evaluator, faster); default is isAuthorized per request.
// Exit code 0 when every request matches.

import fs from 'node:fs';
import path from 'node:path';
import { callExact, cacheJson, loadCedar, parseJsonExact } from './lib/common.mjs';

const argv = process.argv.slice(2);
const dir = argv.find((a) => !a.startsWith('--'));
const stateful = argv.includes('--stateful');
const wi = argv.indexOf('--wasm');
if (!dir) { console.error('usage: node verify.mjs DIR [--stateful] [--wasm PATH]'); process.exit(2); }
const cedar = loadCedar(wi >= 0 ? argv[wi + 1] : null, import.meta.url);

function setEq(a, b) {
  const A = new Set(a), B = new Set(b);
  if (A.size !== B.size) return false;
  for (const x of A) if (!B.has(x)) return false;
  return true;
}
const uid = (u) => u.__entity ?? u;          // both spellings of an entity uid are allowed in requests
function policyIds(errors) { const ids = []; for (const e of errors) ids.push(e.policyId); return ids; }
let files = 0, requests = 0, bad = 0;
const t0 = process.hrtime.bigint();
for (const f of fs.readdirSync(dir).sort()) {
  if (!f.endsWith('.json') || f.endsWith('.entities.json')) continue;
  const test = parseJsonExact(fs.readFileSync(path.join(dir, f), 'utf8'));
  const policies = fs.readFileSync(path.join(dir, test.policies), 'utf8');
  const entities = cacheJson(parseJsonExact(fs.readFileSync(path.join(dir, test.entities), 'utf8')));
  files++;
  if (stateful && cedar.preparsePolicySet('verify', { staticPolicies: policies }).type !== 'success') {
    console.log(`${f}: policy set does not parse`); bad += test.requests.length; continue;
  }
  for (const r of test.requests) {
    requests++;
    const call = { principal: uid(r.principal), action: uid(r.action), resource: uid(r.resource), context: r.context ?? {},
      validateRequest: r.validateRequest ?? false, entities };
    const ans = callExact(() => (stateful ? cedar.statefulIsAuthorized({ ...call, preparsedPolicySetId: 'verify' })
      : cedar.isAuthorized({ ...call, policies: { staticPolicies: policies } })));
    const got = ans.type === 'success'
      ? { decision: ans.response.decision, reason: ans.response.diagnostics.reason, errors: policyIds(ans.response.diagnostics.errors) }
      : { failure: ans.errors.map((e) => e.message).join(' | ') };
    if (got.decision !== r.decision || !setEq(got.reason, r.reason) || !setEq(got.errors, r.errors)) {
      bad++;
      if (bad <= 20) console.log(`MISMATCH ${f} ${r.description}: expected ${JSON.stringify({ decision: r.decision, reason: r.reason, errors: r.errors })} got ${JSON.stringify(got)}`);
    }
  }
}
console.log(`${files} files, ${requests} requests, ${requests - bad} match, ${bad} mismatch  ` +
  `[${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s, ${stateful ? 'statefulIsAuthorized' : 'isAuthorized'}]`);
process.exit(bad ? 1 : 0);
