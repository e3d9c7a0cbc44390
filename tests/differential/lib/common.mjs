// common.mjs -- helpers shared by the differential generator and the benchmark
// scripts: a seeded PRNG, exact (BigInt-preserving) JSON output, Cedar string
// escaping, and loading cedar-wasm.

import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------- PRNG
// Own PRNG (xoshiro128**, seeded through splitmix32) so that output depends
// only on --seed and this code, never on Math.random or the Node version.
function splitmix32(a) {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

export class Rng {
  // `stream` gives independent sequences for the same seed (one per output
  // file), so a single file can be regenerated without replaying the others.
  constructor(seed, stream = 0) {
    const outer = splitmix32(seed >>> 0);
    const sm = splitmix32((outer() ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0);
    this.s = [sm(), sm(), sm(), sm()];
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }
  u32() {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  }
  float() { return this.u32() / 4294967296; }
  int(n) { return Math.floor(this.float() * n); }               // [0, n)
  range(lo, hi) { return lo + this.int(hi - lo + 1); }           // [lo, hi]
  chance(p) { return this.float() < p; }
  pick(arr) { return arr[this.int(arr.length)]; }
  // items: [[weight, value], ...]; weight 0 entries are never chosen.
  weighted(items) {
    let total = 0;
    for (const [w] of items) total += w;
    let x = this.float() * total;
    for (const [w, v] of items) { if ((x -= w) < 0) return v; }
    return items[items.length - 1][1];
  }
  shuffle(arr) {
    for (let i = arr.length - 1; i > 0; i--) { const j = this.int(i + 1); [arr[i], arr[j]] = [arr[j], arr[i]]; }
    return arr;
  }
}
function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }

// ---------------------------------------------------------------- exact JSON
// Cedar Longs are signed 64-bit; values beyond 2^53 are kept as BigInt and
// printed verbatim.  A plain JSON.stringify would throw on BigInt, and a
// Number would silently round.
const origStringify = JSON.stringify;

// Pre-serialised objects (see cacheJson): toJson splices their text in as is.
const jsonCache = new WeakMap();

// Serialise `obj` once and reuse the text whenever the same object is
// serialised again (e.g. the entity store passed to every isAuthorized call of
// one test file).  The object must not be mutated afterwards.
export function cacheJson(obj) { jsonCache.set(obj, toJson(obj)); return obj; }

export function toJson(v) {
  switch (typeof v) {
    case 'bigint': return v.toString();
    case 'number':
      if (!Number.isSafeInteger(v)) throw new Error(`non-integer or unsafe number ${v} in Cedar JSON`);
      return String(v);
    case 'string': return origStringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      const cached = jsonCache.get(v);
      if (cached !== undefined) return cached;
      let out = '';
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + toJson(v[i]);
        return '[' + out + ']';
      }
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k) || v[k] === undefined) continue;
        out += (out ? ',' : '') + origStringify(k) + ':' + toJson(v[k]);
      }
      return '{' + out + '}';
    }
    default: throw new Error(`cannot serialise ${typeof v}`);
  }
}

// The wasm-bindgen glue of cedar-wasm serialises call arguments with the
// global JSON.stringify.  Replace it (once, for the whole process) by a version
// that prints BigInts as exact integer literals and splices in cached texts.
// Installed once for the whole process (simpler than swapping it around each
// call).  Calls with a replacer or indentation go to the native implementation.
let exactInstalled = false;
export function installExactStringify() {
  if (exactInstalled) return;
  exactInstalled = true;
  JSON.stringify = function stringify(v, replacer, space) {
    if (replacer === undefined && space === undefined && typeof v === 'object' && v !== null) return toJson(v);
    return origStringify(v, replacer, space);
  };
}
export function callExact(fn) { installExactStringify(); return fn(); }

// ---------------------------------------------------------------- Cedar text
// Escape a string for a Cedar string literal.  Control characters use \u{..}
// or the short escapes; everything else (including non-ASCII) is written raw,
// which the Cedar lexer accepts.  `pattern` additionally escapes '*' (used for
// the literal-star form in `like` patterns).
export function cedarEscape(s, pattern = false) {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (pattern && ch === '*') out += '\\*';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\0';
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out;
}
export const cedarStr = (s) => `"${cedarEscape(s)}"`;
export const cedarUid = (type, id) => `${type}::${cedarStr(id)}`;

// Cedar identifiers that cannot be used after `.` or as a bare `has` operand.
export const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', '__cedar']);
export const isIdent = (s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED.has(s) && !s.includes('__cedar');

// ---------------------------------------------------------------- cedar-wasm
// Resolve @cedar-policy/cedar-wasm/nodejs from (in order) --wasm, the script's
// own folder tree (tests/differential/node_modules after `npm ci`), the cwd,
// and $CEDAR_WASM_DIR (e.g. /tmp/cedarref).
export function loadCedar(explicit, scriptUrl) {
  // Work around a V8 bug: node 20.20 (V8 11.3) aborted with "Fatal error ...
  // unreachable code" in Deoptimizer::DoComputeBuiltinContinuation after some
  // 10^4-10^5 cedar-wasm calls (verify.mjs over 100k cases, three runs out of
  // three).  With Turbofan's inlining of JS->Wasm calls disabled, the same run
  // finished and was no slower, so inlining is the likely trigger.  The flag is
  // process-wide, so it also covers worker threads.
  v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
  const bases = [];
  if (scriptUrl) bases.push(path.dirname(fileURLToPath(scriptUrl)));
  bases.push(path.dirname(fileURLToPath(import.meta.url)));
  bases.push(process.cwd());
  if (process.env.CEDAR_WASM_DIR) bases.push(process.env.CEDAR_WASM_DIR);
  bases.push('/tmp/cedarref');
  const tries = explicit ? [[process.cwd(), explicit]] : [];
  for (const b of bases) tries.push([b, '@cedar-policy/cedar-wasm/nodejs']);
  for (const [base, spec] of tries) {
    try {
      const req = createRequire(path.join(path.resolve(base), 'noop.js'));
      return req(req.resolve(spec));
    } catch { /* try next */ }
  }
  throw new Error('cannot load @cedar-policy/cedar-wasm/nodejs: run `npm ci` in tests/differential, ' +
    'or set CEDAR_WASM_DIR to a folder where it is npm-installed, or pass --wasm /abs/path/cedar_wasm.js');
}

export function writeFileMkdir(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

// JSON.parse that keeps integers beyond 2^53 exact (as BigInt).  Falls back to
// the fast native parser when the text has no long digit runs.
export function parseJsonExact(text) {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})(?![.eE\d])/g,
    (m, str, big) => (str !== undefined ? str : `{"\\u0000big":"${big}"}`)), (k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && '\u0000big' in v) {
      const b = BigInt(v['\u0000big']);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    return v;
  });
}
