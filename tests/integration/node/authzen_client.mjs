// An independent AuthZEN client (Node's fetch): replays an AuthZEN decision
// file against a PDP over HTTP, one request at a time and then as one batch.
//   node authzen_client.mjs BASE_URL API_KEY DECISIONS.json
// Prints {"total","matched","batch_matched","mismatches":[...]}.
import { readFileSync } from 'node:fs';

const [base, apiKey, file] = process.argv.slice(2);
const parsed = JSON.parse(readFileSync(file, "utf8"));
// The two upstream files name the list differently ("decisions", "evaluation").
const decisions = parsed.decisions ?? parsed.evaluation;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };

let matched = 0;
const mismatches = [];
for (const [i, { request, expected }] of decisions.entries()) {
  const res = await fetch(`${base}/access/v1/evaluation`, { method: 'POST', headers, body: JSON.stringify(request) });
  const body = await res.json();
  if (res.status === 200 && body.decision === expected) matched++;
  else mismatches.push({ i, status: res.status, expected, body });
}

const batch = await fetch(`${base}/access/v1/evaluations`, {
  method: 'POST', headers,
  body: JSON.stringify({ evaluations: decisions.map((d) => d.request) }),
});
const batchBody = await batch.json();
let batchMatched = 0;
if (batch.status === 200 && Array.isArray(batchBody.evaluations))
  batchBody.evaluations.forEach((e, i) => { if (e.decision === decisions[i].expected) batchMatched++; });

console.log(JSON.stringify({ total: decisions.length, matched, batch_matched: batchMatched, mismatches }));
