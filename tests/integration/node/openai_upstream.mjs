// A test OpenAI-compatible LLM upstream (node:http only; no npm packages) for
// ztgate's LLM proxy integration tests. Deterministic: the assistant reply is
// "echo: " + the last user message (or, for a last message starting with
// "/leak", the system prompt), token counts are word counts.
//
//   node openai_upstream.mjs [--port N] [--api-key K] [--tls-cert PEM --tls-key PEM]
//   (with --tls-cert/--tls-key it serves https, for the gateway's TLS upstream tests)
// (OPENAI_UPSTREAM_API_KEY in the environment works like --api-key.)
// Prints exactly one line {"port": N} once bound to 127.0.0.1 (port 0 = ephemeral).
//
// Routes:
//   GET  /v1/models              list of MODELS below
//   GET  /v1/models/{id}         one model, or 404 model_not_found
//   POST /v1/chat/completions    chat.completion, or SSE chat.completion.chunk
//                                events (one per word, first carries the role,
//                                then a finish_reason "stop" chunk, the usage
//                                chunk if stream_options.include_usage, [DONE])
//   POST /v1/embeddings          8 deterministic floats per input string
//                                (encoding_format "float" or "base64")
//   GET  /__last                 the last /v1 request received (also the ones
//                                refused): {seq, method, path, headers (all,
//                                lowercased), body (parsed JSON or null)}; null
//                                before the first one. Never needs the API key.
// Models (chat and embeddings):
//   demo-small    normal
//   drip-model    streams with 150 ms before every SSE event after the headers
//   slow-model    waits 20 s before answering anything
//   broken-model  500 {"error":{"type":"server_error","code":"upstream_broken"}}
//   other         404 {"error":{"code":"model_not_found"}}
// Errors use OpenAI's body {"error":{"message","type","param","code"}}:
//   401 invalid_api_key (when --api-key is set and Authorization is not
//   "Bearer K"), 400 invalid_json / missing model, 404 unknown path,
//   405 wrong method, 413 body over 1 MiB.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const apiKey = args['api-key'] ?? process.env.OPENAI_UPSTREAM_API_KEY ?? null;
const port = Number(args.port ?? 0);

const MAX_BODY = 1024 * 1024;
const CREATED = 1700000000;
const MODELS = ['demo-small', 'drip-model', 'slow-model', 'broken-model'];
const DRIP_MS = 150;
const SLOW_MS = 20000;

let last = null;
let seq = 0;
let idCounter = 0;

function sendJson(res, status, obj, extra = {}) {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify(obj));
}

function sendError(res, status, type, code, message, extra = {}) {
  sendJson(res, status, { error: { message, type, param: null, code } }, extra);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const countWords = (s) => (s.match(/\S+/g) ?? []).length;

// Text of a message's content: a string or an array of {type:"text",text} parts.
function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join(' ');
  return '';
}

// FNV-1a over the string, then a small LCG: 8 values k/128 in [-1, 1), exact in float32.
function embed(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const out = [];
  for (let i = 0; i < 8; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    out.push(((h >>> 24) - 128) / 128);
  }
  return out;
}

// Applies the model behaviour shared by every endpoint. Returns false when it
// has already answered (error) or the client went away while waiting.
async function modelGate(req, res, model) {
  if (typeof model !== 'string' || model === '') {
    sendError(res, 400, 'invalid_request_error', 'missing_model', 'you must provide a model parameter');
    return false;
  }
  if (!MODELS.includes(model)) {
    sendError(res, 404, 'invalid_request_error', 'model_not_found', `The model \`${model}\` does not exist`);
    return false;
  }
  if (model === 'broken-model') {
    sendError(res, 500, 'server_error', 'upstream_broken', 'The model broken-model failed (test upstream).');
    return false;
  }
  if (model === 'slow-model') await sleep(SLOW_MS);
  return !res.destroyed;
}

async function chat(req, res, body) {
  if (!(await modelGate(req, res, body.model))) return;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const lastUser = [...messages].reverse().find((m) => m && m.role === 'user');
  let reply = 'echo: ' + (lastUser ? textOf(lastUser.content) : '');
  // A model that gives its instructions away: "/leak" answers with the
  // system prompt (what a prompt-extraction attack gets out of a real one).
  if (lastUser && textOf(lastUser.content).startsWith('/leak')) {
    reply = 'my instructions: ' + messages.filter((m) => m && (m.role === 'system' || m.role === 'developer'))
      .map((m) => textOf(m.content)).join(' ');
  }
  const promptTokens = messages.reduce((n, m) => n + countWords(textOf(m?.content)), 0);
  const completionTokens = countWords(reply);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  const id = `chatcmpl-test${++idCounter}`;
  const created = Math.floor(Date.now() / 1000);
  const headers = { 'x-upstream-request-id': `up-${idCounter}` };

  if (body.stream !== true) {
    sendJson(res, 200, {
      id, object: 'chat.completion', created, model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage, system_fingerprint: 'fp_ztgate_test',
    }, headers);
    return;
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const words = reply.match(/\S+\s*/g) ?? [''];
  const base = { id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: 'fp_ztgate_test' };
  const events = words.map((w, i) => ({
    ...base,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: w }, logprobs: null, finish_reason: null }],
    ...(includeUsage ? { usage: null } : {}),
  }));
  events.push({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], ...(includeUsage ? { usage: null } : {}) });
  if (includeUsage) events.push({ ...base, choices: [], usage });

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  res.flushHeaders();
  const gap = body.model === 'drip-model' ? DRIP_MS : 0;
  for (const ev of [...events.map((e) => JSON.stringify(e)), '[DONE]']) {
    if (gap) await sleep(gap);
    if (res.destroyed) return;
    res.write(`data: ${ev}\n\n`);
  }
  res.end();
}

async function embeddings(req, res, body) {
  if (!(await modelGate(req, res, body.model))) return;
  const input = body.input;
  const inputs = typeof input === 'string' ? [input]
    : Array.isArray(input) && input.length > 0 && input.every((s) => typeof s === 'string') ? input : null;
  if (!inputs) {
    sendError(res, 400, 'invalid_request_error', 'invalid_input', 'input must be a string or a non-empty array of strings');
    return;
  }
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((s, index) => {
    const v = embed(s);
    const embedding = base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce((n, s) => n + countWords(s), 0);
  sendJson(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function modelObject(id) {
  return { id, object: 'model', created: CREATED, owned_by: 'ztgate-test' };
}

// Reads the body up to MAX_BODY; null after answering 413.
function readBody(req, res) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    let done = false;
    req.on('data', (c) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY) {
        done = true;
        sendError(res, 413, 'invalid_request_error', 'request_too_large', `request body exceeds ${MAX_BODY} bytes`, { connection: 'close' });
        req.destroy();  // stop reading; the 413 has been written
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!done) { done = true; resolve(Buffer.concat(chunks)); } });
    req.on('error', () => { if (!done) { done = true; resolve(null); } });
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = url.pathname;
  if (path === '/__last') {
    sendJson(res, 200, last);
    return;
  }
  if (!path.startsWith('/v1/')) {
    sendError(res, 404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${req.method} ${path}`);
    return;
  }

  const raw = await readBody(req, res);
  let body = null;
  let badJson = false;
  if (raw && raw.length > 0) {
    try { body = JSON.parse(raw.toString('utf8')); } catch { badJson = true; }
  }
  last = { seq: ++seq, method: req.method, path: req.url, headers: { ...req.headers }, body };
  if (raw === null) return;  // 413 already sent

  if (apiKey !== null && req.headers.authorization !== `Bearer ${apiKey}`) {
    sendError(res, 401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.');
    return;
  }

  if (req.method === 'GET' && path === '/v1/models') {
    sendJson(res, 200, { object: 'list', data: MODELS.map(modelObject) });
    return;
  }
  if (req.method === 'GET' && path.startsWith('/v1/models/')) {
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (MODELS.includes(id)) sendJson(res, 200, modelObject(id));
    else sendError(res, 404, 'invalid_request_error', 'model_not_found', `The model \`${id}\` does not exist`);
    return;
  }
  const post = { '/v1/chat/completions': chat, '/v1/embeddings': embeddings }[path];
  if (!post) {
    sendError(res, 404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${req.method} ${path}`);
    return;
  }
  if (req.method !== 'POST') {
    sendError(res, 405, 'invalid_request_error', 'method_not_allowed', `${req.method} is not allowed on ${path}`);
    return;
  }
  if (badJson || body === null || typeof body !== 'object' || Array.isArray(body)) {
    sendError(res, 400, 'invalid_request_error', 'invalid_json', 'The request body is not a JSON object.');
    return;
  }
  await post(req, res, body);
}

const tlsOptions = args['tls-cert'] && args['tls-key']
  ? { cert: fs.readFileSync(args['tls-cert']), key: fs.readFileSync(args['tls-key']) }
  : null;
const server = (tlsOptions ? https.createServer.bind(null, tlsOptions) : http.createServer)((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) sendError(res, 500, 'server_error', 'internal_error', String(e?.message ?? e));
    else res.destroy();
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`{"port": ${server.address().port}}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
