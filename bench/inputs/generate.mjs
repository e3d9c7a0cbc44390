#!/usr/bin/env node
// generate.mjs -- deterministic benchmark inputs for the Cedar engine.
//
// Usage: node bench/inputs/generate.mjs --out DIR [--requests 1000] [--seed 42]
//
// Writes into DIR:
//   policies_10.cedar, policies_100.cedar, policies_1000.cedar
//       RBAC / ABAC / agent-tool policies.  policies_10 and policies_100 are
//       prefixes of policies_1000 (so requests aimed at early policies allow in
//       every set).  Scopes name specific groups / folders / tool servers, so
//       only a handful of policies can match any one request: this is what a
//       scope index is for.
//   entities_10k.json, entities_100k.json
//       entity stores (conformance JSON entity format) of exactly 10,000 and
//       100,000 entities: users in teams in departments in divisions in orgs
//       (depth 5), documents in 4 levels of folders (depth 5), tools in servers
//       in clusters, agents (on_behalf_of a user) in teams, and the actions.
//       About 10% of users and 5% of teams have a second parent (DAG).
//   requests_10k.json, requests_100k.json
//       JSON array of requests {description, principal, action, resource,
//       context} in the conformance request format, for that entity store.
//       About half are aimed at a random policy (scope satisfied by
//       construction, conditions usually satisfied), the rest are random, so
//       there is a mix of allows and denies; bench/wasm/bench.mjs prints the mix.
// Same arguments => byte-identical files.  Plain integers only (no values
// beyond 2^53), so the files can be read with any JSON parser.

import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../tests/differential/lib/common.mjs';

const opt = { out: null, requests: 1000, seed: 42 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = process.argv[i + 1];
  if (a === '--out') { opt.out = v; i++; }
  else if (a === '--requests') { opt.requests = parseInt(v, 10); i++; }
  else if (a === '--seed') { opt.seed = Number(v) >>> 0; i++; }
  else if (a === '-h' || a === '--help') { console.log('usage: node generate.mjs --out DIR [--requests N] [--seed N]'); process.exit(0); }
  else { console.error(`unknown option ${a}`); process.exit(2); }
}
if (!opt.out) { console.error('--out DIR is required'); process.exit(2); }
fs.mkdirSync(opt.out, { recursive: true });

const uid = (type, id) => ({ type, id });
const ref = (u) => ({ __entity: u });
const lit = (u) => `${u.type}::"${u.id}"`;     // ids below never need escaping
const key = (u) => `${u.type}::${u.id}`;

const ACTIONS = ['read', 'list', 'write', 'delete', 'share', 'call_tool', 'list_tools', 'admin'];
const ACTION_GROUPS = { readOnly: ['read', 'list', 'list_tools'], mutate: ['write', 'delete', 'share'] };
const DEPTS = ['eng', 'sales', 'legal', 'finance', 'support', 'research'];
const MODELS = ['gpt-x', 'claude-y', 'llama-z', 'internal-7b'];
const SCOPES = ['tools:read', 'tools:write', 'tools:call', 'tools:high-risk', 'docs:read', 'docs:write'];

// Level sizes as a function of the store size.  Policies only name groups /
// folders / servers whose index exists in the 10k store, so the same policy
// sets apply to both stores.
function layout(n) {
  const c = {
    org: Math.max(2, n / 5000), div: n / 1000, dept: n / 250, team: n / 50,
    root: Math.max(2, n / 5000), f2: n / 1000, f3: n / 250, f4: n / 50,
    cluster: Math.max(2, n / 10000), server: n / 200, tool: n / 25,
    agent: n / 12, user: Math.round(n * 0.4),
  };
  for (const k of Object.keys(c)) c[k] = Math.round(c[k]);
  const fixed = Object.values(c).reduce((a, b) => a + b, 0) + ACTIONS.length + Object.keys(ACTION_GROUPS).length;
  c.doc = n - fixed;                         // documents fill up to exactly n
  return c;
}
const SMALL = layout(10000);

// ---------------------------------------------------------------- entity store
function makeStore(n, rng) {
  const c = layout(n);
  const ents = [];
  const byType = {};
  const add = (type, id, attrs, parents) => {
    const e = { uid: uid(type, id), attrs, parents };
    ents.push(e);
    (byType[type] ??= []).push(e);
    return e;
  };
  const level = (prefix, type, count, parentsOf, attrsOf) =>
    Array.from({ length: count }, (_, i) => add(type, `${prefix}-${i}`, attrsOf(i), parentsOf(i)));
  const pickParents = (pool, second) => {
    const p = [rng.pick(pool).uid];
    if (rng.chance(second)) { const q = rng.pick(pool).uid; if (key(q) !== key(p[0])) p.push(q); }
    return p;
  };

  // actions
  for (const [g] of Object.entries(ACTION_GROUPS)) add('Action', g, {}, []);
  for (const a of ACTIONS) {
    const groups = Object.entries(ACTION_GROUPS).filter(([, m]) => m.includes(a)).map(([g]) => uid('Action', g));
    add('Action', a, {}, groups);
  }
  // principals: org <- div <- dept <- team <- user / agent
  const orgs = level('org', 'Group', c.org, () => [], (i) => ({ name: `org ${i}`, kind: 'org' }));
  const divs = level('div', 'Group', c.div, () => pickParents(orgs, 0), (i) => ({ name: `division ${i}`, kind: 'division' }));
  const depts = level('dept', 'Group', c.dept, () => pickParents(divs, 0), (i) => ({ name: `${rng.pick(DEPTS)} ${i}`, kind: 'dept' }));
  const teams = level('team', 'Group', c.team, () => pickParents(depts, 0.05), (i) => ({ name: `team ${i}`, kind: 'team' }));
  const users = level('user', 'User', c.user, () => pickParents(teams, 0.1), (i) => ({
    email: `user${i}@example.com`, clearance: rng.range(0, 5), active: rng.chance(0.92),
    department: rng.pick(DEPTS), roles: rng.shuffle(['viewer', 'editor', 'admin', 'auditor']).slice(0, rng.range(0, 2)),
  }));
  level('agent', 'Agent', c.agent, () => pickParents(teams, 0), () => ({
    on_behalf_of: ref(rng.pick(users).uid), trust: rng.range(0, 5), model: rng.pick(MODELS), active: rng.chance(0.95),
  }));
  // resources: root <- f2 <- f3 <- f4 <- document;  cluster <- server <- tool
  const roots = level('root', 'Folder', c.root, () => [], (i) => ({ name: `root ${i}` }));
  const f2 = level('f2', 'Folder', c.f2, () => pickParents(roots, 0), (i) => ({ name: `folder2 ${i}` }));
  const f3 = level('f3', 'Folder', c.f3, () => pickParents(f2, 0), (i) => ({ name: `folder3 ${i}` }));
  const f4 = level('f4', 'Folder', c.f4, () => pickParents(f3, 0.03), (i) => ({ name: `folder4 ${i}` }));
  level('doc', 'Document', c.doc, () => pickParents(f4, 0.02), () => ({
    owner: ref(rng.pick(users).uid), sensitivity: rng.range(0, 5),
    classification: rng.pick(['public', 'internal', 'confidential', 'secret']),
    tags: rng.shuffle(['pii', 'finance', 'hr', 'legal', 'export']).slice(0, rng.range(0, 2)),
  }));
  const clusters = level('cluster', 'ToolServer', c.cluster, () => [], (i) => ({ sensitivity: 0, region: `region-${i}` }));
  const servers = level('srv', 'ToolServer', c.server, () => pickParents(clusters, 0), () => ({
    sensitivity: rng.range(0, 4), region: `region-${rng.int(4)}`,
  }));
  level('tool', 'Tool', c.tool, () => pickParents(servers, 0), (i) => ({
    name: `tool_${i}`, sensitivity: rng.range(0, 5), risk: rng.pick(['low', 'low', 'medium', 'high']),
  }));
  if (ents.length !== n) throw new Error(`store has ${ents.length} entities, expected ${n}`);

  // children index, for picking members of a group when aiming requests
  const children = new Map();
  for (const e of ents) for (const p of e.parents) {
    const k = key(p);
    if (!children.has(k)) children.set(k, []);
    children.get(k).push(e);
  }
  return { ents, byType, children, byKey: new Map(ents.map((e) => [key(e.uid), e])) };
}

// Entities of one of `types` that are `in` uid (uid itself or a descendant).
function membersOf(store, u, types) {
  let frontier = [store.byKey.get(key(u))].filter(Boolean);
  const found = [];
  const seen = new Set();
  while (frontier.length) {
    const next = [];
    for (const e of frontier) {
      if (seen.has(key(e.uid))) continue;
      seen.add(key(e.uid));
      if (types.includes(e.uid.type)) found.push(e);
      next.push(...(store.children.get(key(e.uid)) || []));
    }
    frontier = next;
  }
  return found;
}
const memberOf = (store, rng, u, types) => { const m = membersOf(store, u, types); return m.length ? rng.pick(m) : null; };

// ---------------------------------------------------------------- policies
// Each shape returns {text, aim}: `aim` describes how to build a request that
// falls into the policy's scope (used by makeRequests).
const gid = (rng, kinds) => {
  const kind = rng.pick(kinds);
  return uid('Group', `${kind}-${rng.int(SMALL[kind])}`);
};
const fid = (rng, kinds) => { const kind = rng.pick(kinds); return uid('Folder', `${kind}-${rng.int(SMALL[kind])}`); };
const sid = (rng) => uid('ToolServer', `srv-${rng.int(SMALL.server)}`);

const SHAPES = {
  rbacDocs: (rng) => {
    const g = gid(rng, ['team', 'team', 'dept', 'div']), f = fid(rng, ['f2', 'f3', 'f4']);
    return { effect: 'permit', aim: { p: g, pTypes: ['User'], a: ['read', 'list'], r: f, rTypes: ['Document'] },
      text: `permit(principal in ${lit(g)}, action in [Action::"read", Action::"list"], resource in ${lit(f)});` };
  },
  abacDocs: (rng) => {
    const g = gid(rng, ['team', 'dept']), f = fid(rng, ['f3', 'f4']), act = rng.pick(['read', 'write']);
    return { effect: 'permit', aim: { p: g, pTypes: ['User'], a: [act], r: f, rTypes: ['Document'] },
      text: `permit(principal in ${lit(g)}, action == Action::"${act}", resource in ${lit(f)})\n` +
        `when { resource.sensitivity <= principal.clearance && principal.active };` };
  },
  userTools: (rng) => {
    const g = gid(rng, ['team', 'dept']), s = sid(rng), scope = rng.pick(['tools:read', 'tools:write']);
    return { effect: 'permit', aim: { p: g, pTypes: ['User'], a: ['call_tool'], r: s, rTypes: ['Tool'], scopes: [scope] },
      text: `permit(principal in ${lit(g)}, action == Action::"call_tool", resource in ${lit(s)})\n` +
        `when { context.delegation.scopes.contains("${scope}") && resource.sensitivity <= principal.clearance };` };
  },
  agentTools: (rng) => {
    const g = gid(rng, ['dept', 'div']), s = sid(rng);
    return { effect: 'permit', aim: { agentFor: g, pTypes: ['Agent'], a: ['call_tool', 'list_tools'], r: s, rTypes: ['Tool'], scopes: ['tools:call'] },
      text: `@id("agent-tools-${s.id}")\n` +
        `permit(principal is Agent, action in [Action::"call_tool", Action::"list_tools"], resource in ${lit(s)})\n` +
        `when { principal.on_behalf_of in ${lit(g)} && principal.active && context.delegation.scopes.contains("tools:call") &&\n` +
        `       resource.sensitivity <= principal.trust };` };
  },
  ownerDocs: (rng) => {
    const f = fid(rng, ['f2', 'f3']);
    return { effect: 'permit', aim: { owner: true, a: ['read', 'write', 'share'], r: f, rTypes: ['Document'] },
      text: `permit(principal, action in [Action::"read", Action::"write", Action::"share"], resource is Document in ${lit(f)})\n` +
        `when { resource.owner == principal };` };
  },
  forbidToolsNoMfa: (rng) => {
    const s = sid(rng);
    return { effect: 'forbid', aim: { pTypes: ['User', 'Agent'], a: ['call_tool'], r: s, rTypes: ['Tool'] },
      text: `forbid(principal, action == Action::"call_tool", resource in ${lit(s)})\n` +
        `unless { context.mfa && context.source_ip.isInRange(ip("10.0.0.0/8")) };` };
  },
  forbidLowClearanceWrites: (rng) => {
    const g = gid(rng, ['team', 'dept']), f = fid(rng, ['f2', 'f3']);
    return { effect: 'forbid', aim: { p: g, pTypes: ['User'], a: ['write', 'delete', 'share'], r: f, rTypes: ['Document'] },
      text: `@advice("writes need clearance 4")\n` +
        `forbid(principal in ${lit(g)}, action in Action::"mutate", resource in ${lit(f)})\n` +
        `unless { principal.clearance >= 4 };` };
  },
  forbidHighRiskAgents: (rng) => {
    const g = gid(rng, ['team']), t = uid('Tool', `tool-${rng.int(SMALL.tool)}`);
    return { effect: 'forbid', aim: { p: g, pTypes: ['Agent'], a: ['call_tool'], r: t, rTypes: ['Tool'] },
      text: `forbid(principal is Agent in ${lit(g)}, action == Action::"call_tool", resource == ${lit(t)})\n` +
        `when { resource.risk == "high" && !context.delegation.scopes.contains("tools:high-risk") };` };
  },
};
const SHAPE_WEIGHTS = [[25, 'rbacDocs'], [20, 'abacDocs'], [15, 'userTools'], [15, 'agentTools'], [5, 'ownerDocs'],
  [10, 'forbidToolsNoMfa'], [5, 'forbidLowClearanceWrites'], [5, 'forbidHighRiskAgents']];

function makePolicies(rng, n) {
  // the first policies cover every shape once, so even policies_10 is varied
  const names = Object.keys(SHAPES);
  return Array.from({ length: n }, (_, i) => SHAPES[i < names.length ? names[i] : rng.weighted(SHAPE_WEIGHTS)](rng));
}

// ---------------------------------------------------------------- requests
function context(rng, need = []) {
  const scopes = new Set(rng.shuffle([...SCOPES]).slice(0, rng.range(0, 3)));
  for (const s of need) if (rng.chance(0.85)) scopes.add(s);
  return {
    mfa: rng.chance(0.8),
    source_ip: { __extn: { fn: 'ip', arg: rng.chance(0.8) ? `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}` : `192.168.${rng.int(256)}.${rng.int(256)}` } },
    delegation: { scopes: [...scopes], issuer: 'idp.example.com', depth: rng.range(0, 3) },
    request_id: `req-${rng.u32().toString(16)}`,
  };
}

function makeRequests(store, policies, rng, n) {
  const out = [];
  const anyOf = (type) => rng.pick(store.byType[type]).uid;
  while (out.length < n) {
    let req = null;
    if (rng.chance(0.55)) {
      // aim at a policy; early policies more often (log-uniform index) so that
      // the 10- and 100-policy sets also see allows
      const idx = Math.floor(10 ** (rng.float() * Math.log10(policies.length))) - 1;
      const { aim } = policies[idx];
      let principal = null;
      if (aim.agentFor) {
        // an agent acting on behalf of a member of the group
        const users = new Set(membersOf(store, aim.agentFor, ['User']).map((e) => key(e.uid)));
        const agents = store.byType.Agent.filter((a) => users.has(key(a.attrs.on_behalf_of.__entity)));
        if (agents.length) principal = rng.pick(agents).uid;
      } else if (aim.p) principal = memberOf(store, rng, aim.p, aim.pTypes)?.uid ?? null;
      const resEnt = memberOf(store, rng, aim.r, aim.rTypes);
      if (aim.owner && resEnt) principal = resEnt.attrs.owner.__entity;
      if (!principal && aim.pTypes) principal = anyOf(rng.pick(aim.pTypes));
      if (principal && resEnt) {
        req = { principal, action: uid('Action', rng.pick(aim.a)), resource: resEnt.uid, context: context(rng, aim.scopes || []) };
      }
    }
    if (!req) {
      const pType = rng.chance(0.75) ? 'User' : 'Agent';
      const rType = rng.chance(0.7) ? 'Document' : 'Tool';
      const acts = rType === 'Tool' ? ['call_tool', 'list_tools', 'admin'] : ['read', 'list', 'write', 'delete', 'share', 'admin'];
      req = { principal: anyOf(pType), action: uid('Action', rng.pick(acts)), resource: anyOf(rType),
        context: context(rng, rType === 'Tool' ? ['tools:call', 'tools:read'] : []) };
    }
    out.push({ description: `Request ${out.length}`, ...req });
  }
  return out;
}

// ---------------------------------------------------------------- output
const t0 = Date.now();
const policies = makePolicies(new Rng(opt.seed, 1), 1000);
for (const n of [10, 100, 1000]) {
  fs.writeFileSync(path.join(opt.out, `policies_${n}.cedar`), policies.slice(0, n).map((p) => p.text).join('\n\n') + '\n');
}
const summary = { seed: opt.seed, policies: {}, stores: {} };
for (const n of [10, 100, 1000]) {
  const ps = policies.slice(0, n);
  summary.policies[n] = { permit: ps.filter((p) => p.effect === 'permit').length, forbid: ps.filter((p) => p.effect === 'forbid').length };
}
for (const [label, n] of [['10k', 10000], ['100k', 100000]]) {
  const store = makeStore(n, new Rng(opt.seed, n));
  const requests = makeRequests(store, policies, new Rng(opt.seed, n + 1), opt.requests);
  fs.writeFileSync(path.join(opt.out, `entities_${label}.json`), '[\n' + store.ents.map((e) => JSON.stringify(e)).join(',\n') + '\n]\n');
  fs.writeFileSync(path.join(opt.out, `requests_${label}.json`), '[\n' + requests.map((r) => JSON.stringify(r)).join(',\n') + '\n]\n');
  const types = Object.fromEntries(Object.entries(store.byType).map(([t, es]) => [t, es.length]));
  summary.stores[label] = { entities: store.ents.length, requests: requests.length, types };
}
fs.writeFileSync(path.join(opt.out, 'inputs-summary.json'), JSON.stringify(summary, null, 1) + '\n');
console.log(`bench inputs -> ${opt.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (const [n, s] of Object.entries(summary.policies)) console.log(`  policies_${n}.cedar: ${s.permit} permit, ${s.forbid} forbid`);
for (const [l, s] of Object.entries(summary.stores)) console.log(`  entities_${l}.json: ${s.entities} entities ${JSON.stringify(s.types)}; requests_${l}.json: ${s.requests}`);
