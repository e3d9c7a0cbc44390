#!/usr/bin/env node
// generate.mjs -- seeded random generator of Cedar differential tests.
//
// Writes test files in the conformance-corpus format (see
// shared/conformance/cedar/README.md) whose expected results come from the
// official Cedar implementation (npm @cedar-policy/cedar-wasm 4.13.0,
// `isAuthorized`, no schema).  Our C++ engine must reproduce decision, reason
// (as a set) and errors (as a set of policy ids) for every request.
//
// Usage:
//   node generate.mjs --out DIR [--seed N] [--cases N] [--min-requests N] [--max-requests N]
//                     [--jobs N] [--stdout-summary] [--summary FILE] [--quiet] [--wasm /abs/path/cedar_wasm.js]
//
//   --seed N           PRNG seed (uint32, default 1).  Same seed + same cases => same files.
//   --cases N          total number of requests to generate (default 2000).
//   --out DIR          output folder; every path inside a test file is relative to DIR.
//   --min/max-requests requests per test file (default 8..16); one policy set and one
//                      entity store per file.
//   --jobs N           worker threads (default: min(4, CPUs)); output does not depend on it.
//   --stdout-summary   print the summary (counts, allow/deny/error mix, feature coverage)
//                      as JSON on stdout; the human-readable summary goes to stderr either way.
//   --summary FILE     also write that JSON summary to FILE (keep it out of DIR: test
//                      runners treat every *.json in DIR except *.entities.json as a test).
//
// Output per test file k (name s<seed>-<k>): s<seed>-<k>.json (the test),
// s<seed>-<k>.cedar (policies; ids policy0.. in file order), s<seed>-<k>.entities.json.
// Test files have NO "schema" and NO "shouldValidate" field (omitted, not false),
// and every request carries "validateRequest": false (there is nothing to
// validate against).  Entities and context are parsed without a schema, so
// entity references inside attribute/context values are written {"__entity": ...}
// and extension values {"__extn": ...}; request principal/action/resource use
// both {"type","id"} and {"__entity": {...}}.  reason/errors are sorted by
// policy number (compare them as sets).  Integers beyond 2^53 are written verbatim.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Rng, toJson, callExact, cacheJson, cedarEscape, cedarStr, cedarUid, isIdent, loadCedar, writeFileMkdir } from './lib/common.mjs';

// ---------------------------------------------------------------- options
function parseArgs() {
  const o = { seed: 1, cases: 2000, out: null, minReq: 8, maxReq: 16, stdoutSummary: false, summary: null, quiet: false, wasm: null,
    jobs: Math.min(4, os.availableParallelism ? os.availableParallelism() : os.cpus().length) };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) die(`missing value for ${a}`); return argv[++i]; };
    switch (a) {
      case '--seed': o.seed = Number(next()) >>> 0; break;
      case '--cases': o.cases = parseInt(next(), 10); break;
      case '--out': o.out = next(); break;
      case '--min-requests': o.minReq = parseInt(next(), 10); break;
      case '--max-requests': o.maxReq = parseInt(next(), 10); break;
      case '--jobs': o.jobs = parseInt(next(), 10); break;
      case '--stdout-summary': o.stdoutSummary = true; break;
      case '--summary': o.summary = next(); break;
      case '--quiet': o.quiet = true; break;
      case '--wasm': o.wasm = next(); break;
      case '-h': case '--help': {
        const lines = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1);
        console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n'));
        process.exit(0);
      }
      default: die(`unknown option ${a}`);
    }
  }
  if (!o.out) die('--out DIR is required');
  if (!(o.cases > 0) || !(o.minReq > 0) || o.maxReq < o.minReq || !(o.jobs > 0)) die('bad --cases / --min-requests / --max-requests / --jobs');
  return o;
}
const opt = isMainThread ? parseArgs() : workerData.opt;
function die(msg) { console.error(`generate: ${msg}`); process.exit(2); }

const cedar = loadCedar(opt.wasm, import.meta.url);

// ---------------------------------------------------------------- vocabulary
// Types are plain strings; records are 'rec:<name>' with shapes in RECORDS,
// sets are 'set<elem>'.  The same attribute name always has the same intended
// type so that most generated expressions are well typed; errors come from
// deliberate mistyping, missing data and extension/overflow edge cases.
const RECORDS = {
  profile: { dept: 'string', clearance: 'long', address: 'rec:address' },
  address: { city: 'string', zip: 'long' },
  req: { tool: 'string', args: 'rec:args', depth: 'long' },
  args: { path: 'string', size: 'long', recursive: 'bool' },
  delegation: { by: 'entity', scopes: 'set<string>', expires: 'datetime' },
};
const ENTITY_ATTRS = {
  level: 'long', name: 'string', active: 'bool', roles: 'set<string>', nums: 'set<long>',
  owner: 'entity', friends: 'set<entity>', src: 'ip', score: 'decimal', created: 'datetime',
  ttl: 'duration', profile: 'rec:profile', 'display name': 'string', then: 'long', big: 'long',
};
const CONTEXT_ATTRS = {
  authenticated: 'bool', ip: 'ip', now: 'datetime', elapsed: 'duration', count: 'long',
  scopes: 'set<string>', req: 'rec:req', target: 'entity', delegation: 'rec:delegation',
  'x-header': 'string', score: 'decimal', big: 'long', ids: 'set<long>',
};
const TAGS = { env: 'string', tier: 'long', clearance: 'long', owner: 'entity', net: 'ip' };
const SCALAR_TYPES = ['bool', 'long', 'string', 'entity', 'ip', 'decimal', 'datetime', 'duration'];
const ALL_TYPES = [...SCALAR_TYPES, 'set<string>', 'set<long>', 'set<entity>', 'rec:profile', 'rec:req'];

const P_LEAF_TYPES = ['User', 'User', 'Agent', 'Acme::Service'];
const P_GROUP_TYPES = ['Group', 'Group', 'Acme::Team'];
const R_LEAF_TYPES = ['Doc', 'Doc', 'Tool', 'Acme::Secret'];
const R_GROUP_TYPES = ['Folder', 'ToolServer'];
const IS_TYPES = [...new Set([...P_LEAF_TYPES, ...P_GROUP_TYPES, ...R_LEAF_TYPES, ...R_GROUP_TYPES, 'Action', 'Ghost', 'Acme::Ghost'])];

const LEAF_ACTIONS = ['read', 'write', 'delete', 'list', 'call_tool', 'admin'];
const GROUP_ACTIONS = ['readOnly', 'mutate', 'all'];

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar'];
// Ids that stress string escaping in policy text and JSON.
const WEIRD_IDS = ['we"ird', 'back\\slash', 'ünïcødé', '', 'tab\tid', 'star*id', '🚀 rocket', 'new\nline', ' spaced ', 'a::b', 'nul\0id', '\u{7f}del'];

const STRINGS = ['alice', 'admin', 'prod', 'dev', 'tools:read', 'tools:write', 'tools:*', 'a*b', 'x', '',
  'ünï', '/etc/passwd', '/home/alice/report.pdf', 'report.pdf', 'Engineering', 'Sales', 'Berlin', 'search', 'shell',
  'read_file', 'we"ird', 'back\\slash', 'line\nbreak', 'ALICE'];
const SMALL_LONGS = [-3, -1, 0, 1, 2, 3, 5, 7, 10, 42, 100, 1000];
// Values near the int64 limits and the multiplication overflow boundary
// (3037000499^2 < 2^63-1 < 3037000500^2).  BigInt where beyond 2^53.
const BIG_LONGS = [9223372036854775807n, -9223372036854775808n, 9223372036854775806n, -9223372036854775807n,
  4611686018427387904n, -4611686018427387904n, 3037000499, 3037000500, 9007199254740993n, 2147483648, -2147483649];
// Extension literals.  BAD_* are meant to be rejected by Cedar (e.g. it refuses
// IPv4-mapped IPv6 addresses); whatever cedar-wasm does is the expectation.
// Entity/context data only uses the valid pools: an invalid __extn in data
// fails the whole request, which tests nothing about evaluation.
const IPS = ['10.0.0.1', '10.1.2.3', '192.168.1.10', '127.0.0.1', '127.0.0.0/8', '224.0.0.5', '::1', '2001:db8::1',
  'ff02::1', '10.0.0.0/8', '192.168.0.0/16', '0.0.0.0', '2001:db8::/32'];
const BAD_IPS = ['::ffff:10.0.0.1', '256.1.1.1', '1.2.3', '::g', '10.0.0.1/33', '', 'localhost', '1.2.3.4/', '01.2.3.4'];
const DECIMALS = ['0.0', '1.5', '-2.25', '3.1415', '922337203685477.5807', '-922337203685477.5808', '10.0', '0.0001'];
const BAD_DECIMALS = ['1.23456', '1', 'abc', '922337203685477.5808', '-', '1.', '.5'];
const DATETIMES = ['2024-01-01', '2024-06-15T12:00:00Z', '2024-06-15T12:00:00.500Z', '2023-12-31T23:59:59+0100',
  '2025-02-28T08:30:00-0530', '1970-01-01', '2024-02-29', '2024-06-15'];
const BAD_DATETIMES = ['2024-13-01', '2024-02-30', '2024-06-15T25:00:00Z', 'yesterday', '2024-6-1',
  '2024-06-15T12:00:00', '2024-06-15 12:00:00Z'];
const DURATIONS = ['1h', '30m', '1d2h', '-15m', '2h30m10s', '500ms', '0ms', '7d', '1d1h1m1s1ms', '-1d'];
const BAD_DURATIONS = ['1x', '', 'h', '1m1h', '1.5h', '--1h', '9223372036854775807d'];

// ---------------------------------------------------------------- world (entity store)
const uidKey = (u) => `${u.type}\u0000${u.id}`;

// Builds one entity store: a principal hierarchy, a resource hierarchy (each
// up to 6 levels, DAG-shaped: 0-3 parents at any higher level), an action
// hierarchy, attributes, tags, and some parent edges to entities that are
// not in the store ("phantoms").
function makeWorld(rng) {
  const w = { entities: [], byKey: new Map(), pLeaves: [], pGroups: [], rLeaves: [], rGroups: [],
    actions: [], actionGroups: [], phantoms: [], pPhantoms: [], rPhantoms: [], ids: new Set() };
  const freshId = (type, base) => {
    let id = base;
    for (let n = 2; w.ids.has(`${type}\u0000${id}`); n++) id = `${base}${n}`;
    w.ids.add(`${type}\u0000${id}`);
    return id;
  };
  const family = (leafTypes, groupTypes, leafPrefix, groupPrefix, leaves, groups, phantoms) => {
    const depth = rng.range(1, 6);                      // number of levels incl. the leaves
    const levels = [];
    for (let lvl = 0; lvl < depth; lvl++) {
      const n = lvl === 0 ? rng.range(3, 8) : rng.range(1, 3);
      const row = [];
      for (let k = 0; k < n; k++) {
        const type = rng.pick(lvl === 0 ? leafTypes : groupTypes);
        const base = rng.chance(0.06) ? rng.pick(WEIRD_IDS)
          : lvl === 0 && type === 'User' ? rng.pick(NAMES) : `${lvl === 0 ? leafPrefix : groupPrefix}${lvl}_${k}`;
        row.push({ uid: { type, id: freshId(type, base) }, attrs: {}, parents: [], level: lvl });
      }
      levels.push(row);
    }
    for (let lvl = 0; lvl < depth - 1; lvl++) {
      for (const e of levels[lvl]) {
        const np = rng.weighted([[5, 0], [65, 1], [25, 2], [5, 3]]);
        const seen = new Set();
        for (let j = 0; j < np; j++) {
          let parent;
          if (rng.chance(0.04)) {                         // parent missing from the store
            parent = { type: rng.pick(groupTypes), id: `phantom${rng.int(3)}` };
            w.phantoms.push(parent); phantoms.push(parent);
          } else {
            const target = rng.chance(0.7) ? lvl + 1 : rng.range(lvl + 1, depth - 1);
            parent = rng.pick(levels[target]).uid;
          }
          if (!seen.has(uidKey(parent))) { seen.add(uidKey(parent)); e.parents.push(parent); }
        }
      }
    }
    for (const row of levels) for (const e of row) { (e.level === 0 ? leaves : groups).push(e); w.entities.push(e); }
  };
  family(P_LEAF_TYPES, P_GROUP_TYPES, 'u', 'g', w.pLeaves, w.pGroups, w.pPhantoms);
  family(R_LEAF_TYPES, R_GROUP_TYPES, 'doc', 'folder', w.rLeaves, w.rGroups, w.rPhantoms);

  // Actions: leaves -> readOnly/mutate -> all (a DAG; sometimes flat).
  const leafActs = rng.shuffle([...LEAF_ACTIONS]).slice(0, rng.range(3, 6));
  const groupActs = GROUP_ACTIONS.filter(() => rng.chance(0.8));
  const aEnt = (id, parents) => ({ uid: { type: 'Action', id }, attrs: {}, parents, level: 0, isAction: true });
  for (const g of groupActs) {
    const e = aEnt(g, g !== 'all' && groupActs.includes('all') && rng.chance(0.8) ? [{ type: 'Action', id: 'all' }] : []);
    w.actionGroups.push(e); w.entities.push(e);
  }
  for (const a of leafActs) {
    const cands = groupActs.filter((g) => g !== 'all');
    const parents = [];
    for (const g of cands) if (rng.chance(0.45)) parents.push({ type: 'Action', id: g });
    if (groupActs.includes('all') && (parents.length === 0 || rng.chance(0.2))) parents.push({ type: 'Action', id: 'all' });
    const e = aEnt(a, parents);
    w.actions.push(e); w.entities.push(e);
  }
  if (rng.chance(0.3)) {                                 // a namespaced action type
    const e = { uid: { type: 'Acme::Action', id: 'deploy' }, attrs: {}, parents: [], level: 0, isAction: true };
    w.actions.push(e); w.entities.push(e);
  }
  for (const e of w.entities) w.byKey.set(uidKey(e.uid), e);

  // Attributes and tags (actions get them rarely: Cedar allows it without a schema).
  const gv = new ValueGen(rng, w);
  for (const e of w.entities) {
    if (e.isAction && !rng.chance(0.1)) continue;
    for (const [name, t] of Object.entries(ENTITY_ATTRS)) {
      const pres = name === 'big' || name === 'then' || name === 'display name' ? 0.35 : 0.88;
      if (rng.chance(pres)) e.attrs[name] = gv.value(t, name === 'big');
    }
    if (rng.chance(0.35)) {
      e.tags = {};
      for (const [k, t] of Object.entries(TAGS)) if (rng.chance(0.5)) e.tags[k] = gv.value(t);
    }
  }
  return w;
}

// Random Cedar JSON values of an intended type (occasionally of a wrong type).
class ValueGen {
  constructor(rng, world) { this.rng = rng; this.w = world; }
  anyEntityUid() {
    const r = this.rng, w = this.w;
    return r.weighted([[40, () => r.pick(w.pLeaves).uid], [20, () => r.pick(w.pGroups.length ? w.pGroups : w.pLeaves).uid],
      [25, () => r.pick(w.rLeaves).uid], [10, () => r.pick(w.rGroups.length ? w.rGroups : w.rLeaves).uid],
      [5, () => ({ type: 'User', id: 'ghost' })]])();
  }
  ext(fn, pool) {
    // both spellings of an extension value: {"arg": x} and {"args": [x]}
    return this.rng.chance(0.1) ? { __extn: { fn, args: [this.rng.pick(pool)] } } : { __extn: { fn, arg: this.rng.pick(pool) } };
  }
  value(t, big = false, depth = 0) {
    const r = this.rng;
    if (depth === 0 && r.chance(0.04)) t = r.pick(ALL_TYPES);   // wrongly typed data
    switch (t) {
      case 'bool': return r.chance(0.5);
      case 'long': return big || r.chance(0.08) ? r.pick(BIG_LONGS) : r.pick(SMALL_LONGS);
      case 'string': return r.pick(STRINGS);
      case 'entity': return { __entity: this.anyEntityUid() };
      case 'ip': return this.ext('ip', IPS);
      case 'decimal': return this.ext('decimal', DECIMALS);
      case 'datetime':
        if (r.chance(0.05)) {                            // the offset(datetime, duration) form
          return { __extn: { fn: 'offset', args: [{ __extn: { fn: 'datetime', arg: r.pick(DATETIMES) } },
            { __extn: { fn: 'duration', arg: r.pick(DURATIONS) } }] } };
        }
        return this.ext('datetime', DATETIMES);
      case 'duration': return this.ext('duration', DURATIONS);
      default:
        if (t.startsWith('set<')) {
          const el = t.slice(4, -1);
          return Array.from({ length: r.range(0, 4) }, () => this.value(el, false, depth + 1));
        }
        if (t.startsWith('rec:')) {
          const o = {};
          for (const [k, ft] of Object.entries(RECORDS[t.slice(4)])) if (r.chance(0.9)) o[k] = this.value(ft, false, depth + 1);
          return o;
        }
        throw new Error(`unknown type ${t}`);
    }
  }
  context() {
    const r = this.rng, o = {};
    for (const [k, t] of Object.entries(CONTEXT_ATTRS)) {
      if (r.chance(k === 'big' ? 0.4 : 0.88)) o[k] = this.value(t, k === 'big');
    }
    if (r.chance(0.1)) o.extra = { nested: { deeper: { leaf: this.value(r.pick(SCALAR_TYPES)) } } };
    return o;
  }
}

// ---------------------------------------------------------------- expressions
// Each generated node is {s: text, p: precedence}.  Children are parenthesised
// only when the grammar requires it (plus a few redundant parentheses), so the
// C++ parser's precedence handling is exercised too.
const IF = 0, OR = 1, AND = 2, REL = 3, ADD = 4, MUL = 5, UNARY = 6, MEMBER = 7;
const node = (s, p) => ({ s, p });

// Flattened attribute paths per type: [[segments...], type].
function pathsOf(attrs) {
  const out = new Map();
  const walk = (prefix, shape) => {
    for (const [k, t] of Object.entries(shape)) {
      const segs = [...prefix, k];
      if (!out.has(t)) out.set(t, []);
      out.get(t).push(segs);
      if (t.startsWith('rec:')) walk(segs, RECORDS[t.slice(4)]);
    }
  };
  walk([], attrs);
  return out;
}
const ENTITY_PATHS = pathsOf(ENTITY_ATTRS);
const CONTEXT_PATHS = pathsOf(CONTEXT_ATTRS);

class ExprGen {
  constructor(rng, world, cov) { this.r = rng; this.w = world; this.cov = cov; this.vg = new ValueGen(rng, world); }
  c(name) { this.cov[name] = (this.cov[name] || 0) + 1; }
  wrap(n, min) { return n.p >= min && !this.r.chance(0.03) ? n.s : `(${n.s})`; }
  access(base, segs) {
    let s = this.wrap(base, MEMBER);
    for (const k of segs) {
      if (isIdent(k) && !this.r.chance(0.05)) s += `.${k}`;
      else { s += `[${cedarStr(k)}]`; this.c('index[]'); }
    }
    this.c('attr-access');
    return node(s, MEMBER);
  }
  // ---- entity-valued leaves and literals
  uidLit(u) { this.c('entity-literal'); return node(cedarUid(u.type, u.id), MEMBER); }
  someUid() {
    const r = this.r, w = this.w;
    return r.weighted([[30, () => r.pick(w.pLeaves).uid], [20, () => r.pick(w.pGroups.length ? w.pGroups : w.pLeaves).uid],
      [20, () => r.pick(w.rLeaves).uid], [15, () => r.pick(w.rGroups.length ? w.rGroups : w.rLeaves).uid],
      [8, () => r.pick(w.actions).uid], [4, () => (w.phantoms.length ? r.pick(w.phantoms) : { type: 'Group', id: 'phantom0' })],
      [3, () => ({ type: r.pick(P_LEAF_TYPES), id: 'missing' })]])();
  }
  entityBase() {
    const r = this.r;
    return r.weighted([[35, () => node('principal', MEMBER)], [35, () => node('resource', MEMBER)],
      [3, () => node('action', MEMBER)], [10, () => this.uidLit(this.someUid())],
      [10, () => this.access(r.chance(0.5) ? node('principal', MEMBER) : node('resource', MEMBER), ['owner'])],
      [7, () => { this.c('context'); return this.access(node('context', MEMBER), r.chance(0.5) ? ['target'] : ['delegation', 'by']); }]])();
  }
  // attribute path of a given type, on an entity or on the context
  typedAccess(t) {
    const ep = ENTITY_PATHS.get(t) || [], cp = CONTEXT_PATHS.get(t) || [];
    if (!ep.length && !cp.length) return null;
    if (cp.length && (!ep.length || this.r.chance(0.4))) { this.c('context'); return this.access(node('context', MEMBER), this.r.pick(cp)); }
    return this.access(this.entityBase(), this.r.pick(ep));
  }
  longLit(big = this.r.chance(0.15)) {
    const v = big ? this.r.pick(BIG_LONGS) : this.r.pick(SMALL_LONGS);
    const neg = typeof v === 'bigint' ? v < 0n : v < 0;
    if (big) this.c('long-near-limit');
    return node(String(v), neg ? UNARY : MEMBER);
  }
  extCall(fn, good, bad) {
    this.c(`${fn}()`);
    if (this.r.chance(0.03)) {                     // non-literal argument
      const arg = this.gen('string', 0);
      return node(`${fn}(${arg.s})`, MEMBER);
    }
    const invalid = this.r.chance(0.06);
    if (invalid) this.c(`${fn}()-invalid-literal`);
    return node(`${fn}(${cedarStr(this.r.pick(invalid ? bad : good))})`, MEMBER);
  }
  setLit(el, d) {
    this.c('set-literal');
    const n = this.r.range(0, 3);
    return node(`[${Array.from({ length: n }, () => this.gen(el, d - 1).s).join(', ')}]`, MEMBER);
  }
  recLit(shape, d) {
    this.c('record-literal');
    const parts = [];
    for (const [k, t] of Object.entries(shape)) {
      if (!this.r.chance(0.8)) continue;
      parts.push(`${isIdent(k) && this.r.chance(0.7) ? k : cedarStr(k)}: ${this.gen(t, d - 1).s}`);
    }
    return node(`{${parts.join(', ')}}`, MEMBER);
  }
  ifThen(t, d) {
    this.c('if-then-else');
    return node(`if ${this.gen('bool', d - 1).s} then ${this.gen(t, d - 1).s} else ${this.gen(t, d - 1).s}`, IF);
  }

  // ---- main dispatcher
  gen(t, d) {
    const r = this.r;
    if (d > 0 && r.chance(0.03)) { this.c('mistyped-operand'); t = r.pick(ALL_TYPES); }
    switch (t) {
      case 'bool': return this.genBool(d);
      case 'long': return this.genLong(d);
      case 'string':
        if (d > 0 && r.chance(0.1)) return this.ifThen(t, d);
        if (d > 0 && r.chance(0.1)) { this.c('getTag'); return node(`${this.wrap(this.entityBase(), MEMBER)}.getTag("env")`, MEMBER); }
        return r.chance(0.5) ? this.typedAccess('string') : node(cedarStr(r.pick(STRINGS)), MEMBER);
      case 'entity':
        if (d > 0 && r.chance(0.08)) return this.ifThen(t, d);
        if (d > 0 && r.chance(0.08)) { this.c('getTag'); return node(`${this.wrap(this.entityBase(), MEMBER)}.getTag("owner")`, MEMBER); }
        return r.chance(0.6) ? this.entityBase() : this.uidLit(this.someUid());
      case 'ip': return r.chance(0.5) ? this.typedAccess('ip') : this.extCall('ip', IPS, BAD_IPS);
      case 'decimal': return r.chance(0.5) ? this.typedAccess('decimal') : this.extCall('decimal', DECIMALS, BAD_DECIMALS);
      case 'datetime':
        if (d > 0 && r.chance(0.25)) {
          if (r.chance(0.6)) { this.c('.offset'); return node(`${this.wrap(this.gen('datetime', d - 1), MEMBER)}.offset(${this.gen('duration', d - 1).s})`, MEMBER); }
          this.c('.toDate'); return node(`${this.wrap(this.gen('datetime', d - 1), MEMBER)}.toDate()`, MEMBER);
        }
        return r.chance(0.5) ? this.typedAccess('datetime') : this.extCall('datetime', DATETIMES, BAD_DATETIMES);
      case 'duration':
        if (d > 0 && r.chance(0.25)) {
          if (r.chance(0.6)) { this.c('.durationSince'); return node(`${this.wrap(this.gen('datetime', d - 1), MEMBER)}.durationSince(${this.gen('datetime', d - 1).s})`, MEMBER); }
          this.c('.toTime'); return node(`${this.wrap(this.gen('datetime', d - 1), MEMBER)}.toTime()`, MEMBER);
        }
        return r.chance(0.5) ? this.typedAccess('duration') : this.extCall('duration', DURATIONS, BAD_DURATIONS);
      default:
        if (t.startsWith('set<')) {
          const acc = r.chance(0.5) ? this.typedAccess(t) : null;
          return acc || this.setLit(t.slice(4, -1), d);
        }
        if (t.startsWith('rec:')) {
          const acc = r.chance(0.6) ? this.typedAccess(t) : null;
          return acc || this.recLit(RECORDS[t.slice(4)], d);
        }
        throw new Error(`unknown type ${t}`);
    }
  }

  genLong(d) {
    const r = this.r;
    if (d <= 0) return r.chance(0.5) ? this.longLit() : this.typedAccess('long');
    return r.weighted([
      [10, () => this.longLit()],
      [20, () => this.typedAccess('long')],
      [10, () => { this.c('+'); return node(`${this.wrap(this.gen('long', d - 1), ADD)} + ${this.wrap(this.gen('long', d - 1), MUL)}`, ADD); }],
      [8, () => { this.c('-'); return node(`${this.wrap(this.gen('long', d - 1), ADD)} - ${this.wrap(this.gen('long', d - 1), MUL)}`, ADD); }],
      [6, () => { this.c('*'); return node(`${this.wrap(this.gen('long', d - 1), MUL)} * ${this.wrap(this.gen('long', d - 1), UNARY)}`, MUL); }],
      [5, () => { this.c('unary-'); return node(`${'-'.repeat(r.weighted([[8, 1], [2, 2], [1, 4]]))}${this.wrap(this.gen('long', d - 1), MEMBER)}`, UNARY); }],
      [3, () => this.ifThen('long', d)],
      [5, () => { const m = r.pick(['toDays', 'toHours', 'toMinutes', 'toSeconds', 'toMilliseconds']); this.c(`.${m}`);
        return node(`${this.wrap(this.gen('duration', d - 1), MEMBER)}.${m}()`, MEMBER); }],
      [3, () => { this.c('getTag'); return node(`${this.wrap(this.entityBase(), MEMBER)}.getTag(${cedarStr(r.pick(['tier', 'clearance', 'nope']))})`, MEMBER); }],
      // explicit trips around the int64 limits: overflow or just-not-overflow
      [9, () => {
        this.c('int64-edge-arith');
        return r.pick([
          () => node(`${this.wrap(this.gen('long', d - 1), ADD)} + 9223372036854775807`, ADD),
          () => node(`-9223372036854775808 - ${this.wrap(this.gen('long', d - 1), MUL)}`, ADD),
          () => node(`${this.wrap(this.gen('long', d - 1), MUL)} * 3037000500`, MUL),
          () => node(`9223372036854775806 + ${r.pick(['1', '2'])}`, ADD),
          () => node(`-9223372036854775807 - ${r.pick(['1', '2'])}`, ADD),
          () => node(`${r.pick(['-', '--', '- -'])}9223372036854775808`, UNARY),
          () => node(`-(${r.pick(['-9223372036854775808', '-9223372036854775807', '9223372036854775807'])})`, UNARY),
          () => node(`${r.pick(['4611686018427387904', '-4611686018427387904', '3037000499'])} * ${r.pick(['2', '-2', '3037000499', '-1'])}`, MUL),
        ])();
      }],
    ])();
  }

  patternFor() {
    // Pick a string that is likely present in the data and replace parts of
    // it by wildcards; literal '*' in the source string become '\*'.
    const r = this.r;
    const s = r.pick(STRINGS);
    const chars = [...s];
    let out = '';
    let i = 0;
    if (r.chance(0.3)) { out += '*'; this.c('like-*'); }
    while (i < chars.length) {
      if (r.chance(0.15)) { out += '*'; this.c('like-*'); i += r.range(0, 3); continue; }
      if (chars[i] === '*') this.c('like-\\*');
      out += cedarEscape(chars[i], true);
      i++;
    }
    if (r.chance(0.3)) { out += '*'; this.c('like-*'); }
    if (r.chance(0.05)) { out += '\\*'; this.c('like-\\*'); }
    return `"${out}"`;
  }

  hasExpr() {
    const r = this.r;
    this.c('has');
    // pick a base and a (possibly nested, possibly absent) attribute path
    let base, shape;
    const k = r.int(10);
    if (k < 5) { base = this.entityBase(); shape = ENTITY_ATTRS; }
    else if (k < 8) { this.c('context'); base = node('context', MEMBER); shape = CONTEXT_ATTRS; }
    else if (k < 9) { this.c('context'); base = this.access(node('context', MEMBER), ['req']); shape = RECORDS.req; }
    else { base = this.access(this.entityBase(), ['profile']); shape = RECORDS.profile; }
    const segs = [];
    let cur = shape;
    for (;;) {
      const keys = Object.keys(cur);
      const key = r.chance(0.08) ? 'nope' : r.pick(keys);
      segs.push(key);
      const t = cur[key];
      if (!t || !t.startsWith('rec:') || !r.chance(0.5)) break;
      cur = RECORDS[t.slice(4)];
    }
    const lhs = this.wrap(base, ADD);
    if (segs.length > 1 && segs.every(isIdent)) { this.c('has-nested'); return node(`${lhs} has ${segs.join('.')}`, REL); }
    const key = segs[0];
    if (isIdent(key) && r.chance(0.8)) return node(`${lhs} has ${key}`, REL);
    this.c('has-"string"');
    return node(`${lhs} has ${cedarStr(key)}`, REL);
  }

  // `B has a && <use of B.a>`: the usual way policies guard optional attributes.
  guarded(d) {
    const r = this.r;
    this.c('guarded-has');
    const t = r.pick(['long', 'string', 'bool', 'set<string>', 'ip', 'datetime', 'entity']);
    const ctx = r.chance(0.35);
    const paths = (ctx ? CONTEXT_PATHS : ENTITY_PATHS).get(t) || ENTITY_PATHS.get(t);
    const segs = r.pick(paths);
    const base = ctx && CONTEXT_PATHS.get(t) ? node('context', MEMBER) : r.pick([node('principal', MEMBER), node('resource', MEMBER)]);
    let guard;
    if (segs.every(isIdent)) guard = `${base.s} has ${segs.join('.')}`;
    else guard = `${base.s} has ${cedarStr(segs[0])}` + (segs.length > 1 ? ` && ${this.access(base, segs.slice(0, 1)).s} has ${cedarStr(segs[1])}` : '');
    const acc = this.access(base, segs);
    let use;
    switch (t) {
      case 'long': use = `${acc.s} ${r.pick(['<', '<=', '>', '>=', '==', '!='])} ${this.wrap(this.gen('long', d - 1), ADD)}`; break;
      case 'string': use = r.chance(0.5) ? `${acc.s} like ${this.patternFor()}` : `${acc.s} == ${this.wrap(this.gen('string', d - 1), ADD)}`; break;
      case 'bool': use = acc.s; break;
      case 'set<string>': use = `${acc.s}.contains(${this.gen('string', d - 1).s})`; break;
      case 'ip': use = `${acc.s}.isInRange(${this.gen('ip', d - 1).s})`; break;
      case 'datetime': use = `${acc.s} ${r.pick(['<', '>='])} ${this.wrap(this.gen('datetime', d - 1), ADD)}`; break;
      default: use = `${acc.s} in ${this.wrap(this.gen('entity', d - 1), ADD)}`;
    }
    return node(`${guard} && ${use}`, AND);
  }

  genBool(d) {
    const r = this.r;
    if (d <= 0) {
      return r.weighted([
        [30, () => this.typedAccess('bool')],
        [25, () => this.hasExpr()],
        [15, () => { this.c('in'); return node(`${this.wrap(this.entityBase(), ADD)} in ${this.uidLit(this.someUid()).s}`, REL); }],
        [10, () => { this.c('is'); return node(`${this.wrap(this.entityBase(), ADD)} is ${r.pick(IS_TYPES)}`, REL); }],
        [10, () => { this.c('bool-literal'); return node(r.chance(0.7) ? 'true' : 'false', MEMBER); }],
        [10, () => { this.c('=='); return node(`${this.wrap(this.typedAccess('string'), ADD)} == ${cedarStr(r.pick(STRINGS))}`, REL); }],
      ])();
    }
    const sub = (t) => this.gen(t, d - 1);
    const rel = (op, a, b) => { this.c(op); return node(`${this.wrap(a, ADD)} ${op} ${this.wrap(b, ADD)}`, REL); };
    return r.weighted([
      [10, () => { this.c('&&'); return node(`${this.wrap(sub('bool'), AND)} && ${this.wrap(sub('bool'), REL)}`, AND); }],
      [7, () => { this.c('||'); return node(`${this.wrap(sub('bool'), OR)} || ${this.wrap(sub('bool'), AND)}`, OR); }],
      [5, () => { this.c('!'); return node(`${'!'.repeat(r.weighted([[8, 1], [2, 2], [1, 3]]))}${this.wrap(sub('bool'), MEMBER)}`, UNARY); }],
      [14, () => rel(r.pick(['<', '<=', '>', '>=']), sub('long'), sub('long'))],
      [10, () => { const t = r.pick(ALL_TYPES); return rel(r.chance(0.7) ? '==' : '!=', sub(t), sub(r.chance(0.9) ? t : r.pick(ALL_TYPES))); }],
      [8, () => {
        this.c('in');
        const rhs = r.weighted([[55, () => sub('entity')], [30, () => { this.c('in-set'); return sub('set<entity>'); }],
          [15, () => { this.c('in-set'); return node(`[${Array.from({ length: r.range(1, 3) }, () => this.uidLit(this.someUid()).s).join(', ')}]`, MEMBER); }]])();
        return node(`${this.wrap(sub('entity'), ADD)} in ${this.wrap(rhs, ADD)}`, REL);
      }],
      [6, () => this.hasExpr()],
      [8, () => this.guarded(d)],
      [5, () => { this.c('like'); return node(`${this.wrap(sub('string'), ADD)} like ${this.patternFor()}`, REL); }],
      [4, () => { this.c('is'); return node(`${this.wrap(sub('entity'), ADD)} is ${r.pick(IS_TYPES)}`, REL); }],
      [3, () => {
        this.c('is-in');
        const rhs = r.chance(0.7) ? sub('entity') : sub('set<entity>');
        return node(`${this.wrap(sub('entity'), ADD)} is ${r.pick(IS_TYPES)} in ${this.wrap(rhs, ADD)}`, REL);
      }],
      [3, () => this.ifThen('bool', d)],
      [4, () => { const t = r.pick(['set<string>', 'set<long>', 'set<entity>']); this.c('.contains');
        return node(`${this.wrap(sub(t), MEMBER)}.contains(${sub(t.slice(4, -1)).s})`, MEMBER); }],
      [3, () => { const t = r.pick(['set<string>', 'set<long>', 'set<entity>']); this.c('.containsAll');
        return node(`${this.wrap(sub(t), MEMBER)}.containsAll(${sub(t).s})`, MEMBER); }],
      [3, () => { const t = r.pick(['set<string>', 'set<long>', 'set<entity>']); this.c('.containsAny');
        return node(`${this.wrap(sub(t), MEMBER)}.containsAny(${sub(t).s})`, MEMBER); }],
      [2, () => { this.c('.isEmpty'); return node(`${this.wrap(sub(r.pick(['set<string>', 'set<long>', 'set<entity>'])), MEMBER)}.isEmpty()`, MEMBER); }],
      [3, () => { this.c('hasTag'); const k = r.chance(0.85) ? cedarStr(r.pick([...Object.keys(TAGS), 'nope'])) : sub('string').s;
        return node(`${this.wrap(this.entityBase(), MEMBER)}.hasTag(${k})`, MEMBER); }],
      [3, () => {
        this.c('getTag');
        const [k, t] = r.pick([...Object.entries(TAGS), ['nope', 'string']]);
        const lhs = node(`${this.wrap(this.entityBase(), MEMBER)}.getTag(${cedarStr(k)})`, MEMBER);
        if (t === 'long') return rel(r.pick(['<', '>=', '==']), lhs, sub('long'));
        if (t === 'ip') { this.c('.isInRange'); return node(`${lhs.s}.isInRange(${sub('ip').s})`, MEMBER); }
        return rel('==', lhs, sub(t));
      }],
      [4, () => {
        const m = r.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast', 'isInRange']);
        this.c(`.${m}`);
        return node(`${this.wrap(sub('ip'), MEMBER)}.${m}(${m === 'isInRange' ? sub('ip').s : ''})`, MEMBER);
      }],
      [3, () => {
        const m = r.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual']);
        this.c(`.${m}`);
        return node(`${this.wrap(sub('decimal'), MEMBER)}.${m}(${sub('decimal').s})`, MEMBER);
      }],
      [3, () => { const op = r.pick(['<', '<=', '>', '>=', '==', '!=']); this.c(`datetime${op}`); return rel(op, sub('datetime'), sub('datetime')); }],
      [3, () => { const op = r.pick(['<', '<=', '>', '>=', '==', '!=']); this.c(`duration${op}`); return rel(op, sub('duration'), sub('duration')); }],
      [1, () => { this.c('decimal<'); return rel(r.pick(['<', '>=']), sub('decimal'), sub('decimal')); }],   // a type error in Cedar 4.x
      [3, () => this.typedAccess('bool')],
      [1, () => { this.c('bool-literal'); return node(r.chance(0.5) ? 'true' : 'false', MEMBER); }],
      // non-bool operands of && || ! and if, to provoke type errors (or not, when short-circuited)
      [2, () => {
        this.c('non-bool-logic');
        const nb = () => sub(r.pick(['long', 'string', 'set<long>', 'entity']));
        return r.pick([
          () => node(`${this.wrap(nb(), AND)} && ${this.wrap(sub('bool'), REL)}`, AND),
          () => node(`${this.wrap(sub('bool'), AND)} && ${this.wrap(nb(), REL)}`, AND),
          () => node(`${this.wrap(sub('bool'), OR)} || ${this.wrap(nb(), AND)}`, OR),
          () => node(`!${this.wrap(nb(), MEMBER)}`, UNARY),
          () => node(`if ${nb().s} then true else false`, IF),
        ])();
      }],
      // wrong arity of extension functions/methods: an evaluation error in Cedar, not a parse error
      [0.3, () => {
        this.c('wrong-arity');
        return node(r.pick(['ip() == ip("1.2.3.4")', 'decimal("1.0", "2.0") == decimal("1.0")', 'ip("1.2.3.4").isIpv4(1)',
          'decimal("1.0").lessThan()', 'datetime("2024-01-01").toDate(1) == datetime("2024-01-01")', 'duration("1h").toHours(2) == 1']), REL);
      }],
    ])();
  }
}

// ---------------------------------------------------------------- policies
// Scope constraints are returned both as text and as data, so that requests
// can be aimed at a policy's scope (see makeRequest).
function scopeVar(g, v, leaves, groups, phantoms, leafTypes, groupTypes) {
  const r = g.r;
  const phantom = () => (phantoms.length ? r.pick(phantoms) : { type: r.pick(groupTypes), id: 'phantom0' });
  const anyOf = () => r.weighted([[60, () => r.pick(leaves).uid], [30, () => r.pick(groups.length ? groups : leaves).uid],
    [5, phantom], [5, () => ({ type: r.pick(leafTypes), id: 'missing' })]])();
  const groupOf = () => r.weighted([[70, () => r.pick(groups.length ? groups : leaves).uid], [20, () => r.pick(leaves).uid], [10, phantom]])();
  const kind = r.weighted([[40, 'none'], [12, '=='], [30, 'in'], [10, 'is'], [8, 'is-in']]);
  g.c(`scope-${v}-${kind}`);
  switch (kind) {
    case 'none': return { kind, text: v };
    case '==': { const u = anyOf(); return { kind, uid: u, text: `${v} == ${cedarUid(u.type, u.id)}` }; }
    case 'in': { const u = groupOf(); return { kind, uid: u, text: `${v} in ${cedarUid(u.type, u.id)}` }; }
    case 'is': { const t = r.chance(0.9) ? r.pick(leafTypes) : r.pick(IS_TYPES); return { kind, type: t, text: `${v} is ${t}` }; }
    default: {
      const u = groupOf(), t = r.pick(r.chance(0.8) ? leafTypes : groupTypes);
      return { kind, uid: u, type: t, text: `${v} is ${t} in ${cedarUid(u.type, u.id)}` };
    }
  }
}

function actionScope(g) {
  const r = g.r, w = g.w;
  const act = () => r.weighted([[70, () => r.pick(w.actions).uid], [25, () => (w.actionGroups.length ? r.pick(w.actionGroups) : r.pick(w.actions)).uid],
    [5, () => ({ type: 'Action', id: 'ghost' })]])();
  const kind = r.weighted([[35, 'none'], [25, '=='], [20, 'in'], [20, 'in-list']]);
  g.c(`scope-action-${kind}`);
  const u = (x) => cedarUid(x.type, x.id);
  switch (kind) {
    case 'none': return { kind, text: 'action' };
    case '==': { const a = act(); return { kind, uids: [a], text: `action == ${u(a)}` }; }
    case 'in': { const a = act(); return { kind, uids: [a], text: `action in ${u(a)}` }; }
    default: { const as = Array.from({ length: r.range(1, 3) }, act); return { kind, uids: as, text: `action in [${as.map(u).join(', ')}]` }; }
  }
}

function annotations(g) {
  const r = g.r;
  if (!r.chance(0.3)) return '';
  g.c('annotation');
  const keys = r.shuffle(['id', 'advice', 'reason', 'owner', 'tag']).slice(0, r.range(1, 3));
  return keys.map((k) => (r.chance(0.2) ? `@${k}\n` : `@${k}(${cedarStr(r.pick(['p-' + r.int(100), 'deny "quoted"', 'ünï', 'multi\nline', '']))})\n`)).join('');
}

function makePolicy(g) {
  const r = g.r, w = g.w;
  const effect = r.chance(0.68) ? 'permit' : 'forbid';
  g.c(effect);
  const scope = {
    principal: scopeVar(g, 'principal', w.pLeaves, w.pGroups, w.pPhantoms, P_LEAF_TYPES, P_GROUP_TYPES),
    action: actionScope(g),
    resource: scopeVar(g, 'resource', w.rLeaves, w.rGroups, w.rPhantoms, R_LEAF_TYPES, R_GROUP_TYPES),
  };
  const [p, a, res] = [scope.principal.text, scope.action.text, scope.resource.text];
  let text = annotations(g);
  text += r.chance(0.7) ? `${effect}(${p}, ${a}, ${res})` : `${effect} (\n  ${p},\n  ${a},\n  ${res}\n)`;
  const nClauses = r.weighted([[30, 0], [45, 1], [18, 2], [7, 3]]);
  for (let i = 0; i < nClauses; i++) {
    const kw = r.chance(0.7) ? 'when' : 'unless';
    g.c(kw);
    const body = g.gen('bool', r.weighted([[30, 1], [40, 2], [25, 3], [5, 4]]));
    const comment = r.chance(0.05) ? ' // trailing comment\n' : ' ';
    text += `\n${kw} {${comment}${body.s} }`;
  }
  return { text: text + ';', scope };
}

// ---------------------------------------------------------------- requests
// Entities (in the store) that satisfy `x in uid`: uid itself and every
// entity with uid among its transitive ancestors (phantom parents count).
function membersOf(w, uid, pool) {
  const key = uidKey(uid);
  return pool.filter((e) => uidKey(e.uid) === key || ancestors(w, e).has(key));
}
function ancestors(w, e) {
  if (e.anc) return e.anc;
  e.anc = new Set();                  // set before recursing: the graph is a DAG, but be safe
  for (const p of e.parents) {
    const k = uidKey(p);
    e.anc.add(k);
    const pe = w.byKey.get(k);
    if (pe) for (const a of ancestors(w, pe)) e.anc.add(a);
  }
  return e.anc;
}

// A random entity that satisfies a principal/resource scope constraint, or null.
function satisfying(g, sc, pool) {
  const r = g.r;
  let cands;
  switch (sc.kind) {
    case '==': return sc.uid;
    case 'in': cands = membersOf(g.w, sc.uid, pool); break;
    case 'is': cands = pool.filter((e) => e.uid.type === sc.type); break;
    case 'is-in': cands = membersOf(g.w, sc.uid, pool).filter((e) => e.uid.type === sc.type); break;
    default: return null;
  }
  return cands.length ? r.pick(cands).uid : null;
}

// 60% of the requests are aimed at the scope of a random policy of the set
// (so that conditions, not just scopes, decide); the rest are random,
// including entities missing from the store.
function makeRequest(g, vg, idx, policies) {
  const r = g.r, w = g.w;
  const pick = (leaves, groups, ghostType) => r.weighted([[80, () => r.pick(leaves).uid], [8, () => r.pick(groups.length ? groups : leaves).uid],
    [7, () => ({ type: ghostType, id: 'ghost' })], [5, () => g.someUid()]])();
  let principal = pick(w.pLeaves, w.pGroups, 'User');
  let action = r.weighted([[90, () => r.pick(w.actions).uid], [5, () => (w.actionGroups.length ? r.pick(w.actionGroups) : r.pick(w.actions)).uid],
    [5, () => ({ type: 'Action', id: 'ghost' })]])();
  let resource = pick(w.rLeaves, w.rGroups, 'Doc');
  if (r.chance(0.6)) {
    g.c('request-aimed-at-policy');
    const sc = r.pick(policies).scope;
    const pAll = [...w.pLeaves, ...w.pGroups], rAll = [...w.rLeaves, ...w.rGroups], aAll = [...w.actions, ...w.actionGroups];
    principal = satisfying(g, sc.principal, pAll) ?? principal;
    resource = satisfying(g, sc.resource, rAll) ?? resource;
    if (sc.action.uids) {
      const a = r.pick(sc.action.uids);
      const m = sc.action.kind === '==' ? [] : membersOf(w, a, aAll);
      action = m.length ? r.pick(m).uid : a;
    }
  }
  const ref = (u) => (r.chance(0.1) ? { __entity: { type: u.type, id: u.id } } : { type: u.type, id: u.id });
  return { description: `Request ${idx}`, principal: ref(principal), action: ref(action), resource: ref(resource),
    context: vg.context(), validateRequest: false };
}

// ---------------------------------------------------------------- one test file
const ERROR_KINDS = [
  ['integer overflow', /integer overflow/], ['entity does not exist', /entity .* does not exist/],
  ['missing attribute', /does not have the attribute/], ['missing tag', /does not have the tag/],
  ['wrong arity', /wrong number of arguments/], ['type error', /type error/],
  ['extension function (bad literal/overflow)', /extension function/], ['other', /./],
];
const errorKind = (msg) => ERROR_KINDS.find(([, re]) => re.test(msg))[0];

const byPolicyNumber = (a, b) => Number(a.slice(6)) - Number(b.slice(6));   // 'policy12' -> 12

function requestCall(policies, entities, rq) {
  const unwrap = (u) => (u.__entity ? u.__entity : u);
  return { principal: unwrap(rq.principal), action: unwrap(rq.action), resource: unwrap(rq.resource), context: rq.context,
    validateRequest: false, policies: { staticPolicies: policies }, entities };
}

function makeFile(k, nRequests, stats) {
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 50) throw new Error(`file ${k}: cedar-wasm rejected 50 generated variants in a row`);
    const r = new Rng(opt.seed, k * 64 + attempt);
    const cov = {};
    const w = makeWorld(r);
    const g = new ExprGen(r, w, cov);
    const vg = new ValueGen(r, w);
    const nPol = r.range(1, 12);
    const pols = Array.from({ length: nPol }, () => makePolicy(g));
    const sep = () => (r.chance(0.1) ? '\n\n// ----\n' : '\n');
    const policyText = pols.map((p, i) => (i ? sep() : '') + p.text).join('\n') + '\n';
    const chk = cedar.checkParsePolicySet({ staticPolicies: policyText });
    if (chk.type !== 'success') {
      stats.rejected.policyParse++;
      if (stats.rejectSamples.length < 5) stats.rejectSamples.push({ file: k, kind: 'policies', message: chk.errors.map((e) => e.message).join(' | ') });
      continue;
    }
    const entities = w.entities.map((e) => (e.tags ? { uid: e.uid, attrs: e.attrs, parents: e.parents, tags: e.tags } : { uid: e.uid, attrs: e.attrs, parents: e.parents }));
    cacheJson(entities);               // serialised once, not once per request
    const requests = [];
    let failed = null;
    for (let i = 0; i < nRequests && !failed; i++) {
      const rq = makeRequest(g, vg, i, pols);
      const ans = callExact(() => cedar.isAuthorized(requestCall(policyText, entities, rq)));
      if (ans.type !== 'success') { failed = ans.errors.map((e) => e.message).join(' | '); break; }
      const resp = ans.response;
      rq.decision = resp.decision;
      // Cedar reports these sets in hash order, which varies between wasm
      // instances; sort them so that the output is reproducible.
      rq.reason = [...resp.diagnostics.reason].sort(byPolicyNumber);
      rq.errors = resp.diagnostics.errors.map((e) => e.policyId).sort(byPolicyNumber);
      rq._errMsgs = resp.diagnostics.errors.map((e) => e.error.message);
      requests.push(rq);
    }
    if (failed) {
      stats.rejected.authorizeCall++;
      if (stats.rejectSamples.length < 5) stats.rejectSamples.push({ file: k, kind: 'isAuthorized', message: failed });
      continue;
    }
    // accepted: account statistics
    for (const [name, n] of Object.entries(cov)) stats.coverage[name] = (stats.coverage[name] || 0) + n;
    stats.files++; stats.policies += nPol; stats.entities += entities.length;
    for (const rq of requests) {
      stats.cases++;
      const forbidHit = rq.decision === 'deny' && rq.reason.length > 0;
      if (rq.decision === 'allow') stats.allow++;
      else if (forbidHit) stats.denyForbid++;
      else stats.denyDefault++;
      if (rq.errors.length) {
        stats.withErrors++;
        if (rq.decision === 'allow') stats.allowWithErrors++;
        stats.errorPolicies += rq.errors.length;
        for (const m of rq._errMsgs) { const kk = errorKind(m); stats.errorKinds[kk] = (stats.errorKinds[kk] || 0) + 1; }
      }
      if (rq.reason.length > 1) stats.multiReason++;
      delete rq._errMsgs;
    }
    return { policyText, entities, requests };
  }
}

// Human-readable JSON: one entity / one request per line; integers exact.
function entitiesText(entities) { return '[\n' + entities.map((e) => ' ' + toJson(e)).join(',\n') + '\n]\n'; }
function testText(name, requests) {
  return '{\n' +
    ` "policies": ${JSON.stringify(name + '.cedar')},\n` +
    ` "entities": ${JSON.stringify(name + '.entities.json')},\n` +
    ' "requests": [\n' + requests.map((rq) => '  ' + toJson(rq)).join(',\n') + '\n ]\n}\n';
}

// ---------------------------------------------------------------- main
// The work is split by file index over worker threads.  Every file draws from
// its own PRNG stream (seed, file index, attempt) and the file sizes are fixed
// up front, so the output does not depend on --jobs.
const newStats = () => ({ files: 0, cases: 0, policies: 0, entities: 0,
  allow: 0, denyForbid: 0, denyDefault: 0, withErrors: 0, allowWithErrors: 0, errorPolicies: 0, multiReason: 0,
  errorKinds: {}, rejected: { policyParse: 0, authorizeCall: 0 }, rejectSamples: [], coverage: {} });

function mergeStats(into, from) {
  for (const [k, v] of Object.entries(from)) {
    if (typeof v === 'number') into[k] += v;
    else if (Array.isArray(v)) into[k].push(...v);
    else for (const [kk, vv] of Object.entries(v)) into[k][kk] = (into[k][kk] || 0) + vv;
  }
}

function runPlan(plan, progress) {
  const stats = newStats();
  for (const [k, n] of plan) {
    const { policyText, entities, requests } = makeFile(k, n, stats);
    const name = `s${opt.seed}-${String(k).padStart(6, '0')}`;
    writeFileMkdir(path.join(opt.out, name + '.cedar'), policyText);
    writeFileMkdir(path.join(opt.out, name + '.entities.json'), entitiesText(entities));
    writeFileMkdir(path.join(opt.out, name + '.json'), testText(name, requests));
    progress(n);
  }
  return stats;
}

if (!isMainThread) {
  const stats = runPlan(workerData.plan, (n) => parentPort.postMessage({ progress: n }));
  parentPort.postMessage({ stats });
} else {
  const t0 = process.hrtime.bigint();
  fs.mkdirSync(opt.out, { recursive: true });
  const plan = [];
  const sizeRng = new Rng(opt.seed, 0x7fffffff);
  for (let k = 0, left = opt.cases; left > 0; k++) {
    const n = Math.min(left, sizeRng.range(opt.minReq, opt.maxReq));
    plan.push([k, n]); left -= n;
  }
  const jobs = Math.min(opt.jobs, plan.length);
  let done = 0;
  const showProgress = !opt.quiet && process.stderr.isTTY;
  const progress = (n) => { done += n; if (showProgress) process.stderr.write(`\r${done}/${opt.cases} cases`); };
  const stats = newStats();
  if (jobs === 1) {
    mergeStats(stats, runPlan(plan, progress));
  } else {
    await Promise.all(Array.from({ length: jobs }, (_, j) => new Promise((resolve, reject) => {
      const wk = new Worker(new URL(import.meta.url), { workerData: { opt, plan: plan.filter((_, i) => i % jobs === j) } });
      wk.on('message', (m) => (m.progress ? progress(m.progress) : (mergeStats(stats, m.stats), resolve())));
      wk.on('error', reject);
      wk.on('exit', (code) => (code ? reject(new Error(`worker ${j} exited with ${code}`)) : resolve()));
    })));
  }
  const summary = { seed: opt.seed, cedarWasm: cedar.getCedarSDKVersion(), cedarLang: cedar.getCedarLangVersion(), jobs, ...stats,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  summary.rejectSamples = stats.rejectSamples.sort((a, b) => a.file - b.file).slice(0, 5);
  summary.errorKinds = Object.fromEntries(Object.entries(stats.errorKinds).sort((a, b) => b[1] - a[1]));
  summary.coverage = Object.fromEntries(Object.entries(stats.coverage).sort(([a], [b]) => a.localeCompare(b)));
  if (opt.summary) writeFileMkdir(opt.summary, JSON.stringify(summary, null, 1) + '\n');

  const pct = (x) => `${(100 * x / summary.cases).toFixed(1)}%`;
  const lines = [
    `${showProgress ? '\r' : ''}cedar-wasm ${summary.cedarWasm} (lang ${summary.cedarLang}), seed ${opt.seed}: ${summary.cases} cases in ${summary.files} files ` +
    `(${summary.policies} policies, ${summary.entities} entities) -> ${opt.out}  [${summary.seconds.toFixed(1)} s, ${jobs} jobs]`,
    `  allow ${summary.allow} (${pct(summary.allow)}), deny by forbid ${summary.denyForbid} (${pct(summary.denyForbid)}), ` +
    `deny by default ${summary.denyDefault} (${pct(summary.denyDefault)})`,
    `  requests with >=1 erroring policy ${summary.withErrors} (${pct(summary.withErrors)}; ${summary.allowWithErrors} of them allowed), ` +
    `>1 determining policy ${summary.multiReason} (${pct(summary.multiReason)})`,
    `  error kinds (per erroring policy): ${Object.entries(summary.errorKinds).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  cedar-wasm rejections (regenerated): policy parse ${summary.rejected.policyParse}, isAuthorized failure ${summary.rejected.authorizeCall}`,
  ];
  for (const s of summary.rejectSamples) lines.push(`    e.g. file ${s.file} ${s.kind}: ${s.message.slice(0, 200)}`);
  console.error(lines.join('\n'));
  if (opt.stdoutSummary) console.log(JSON.stringify(summary, null, 1));
}
