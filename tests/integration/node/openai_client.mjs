// An independent OpenAI API client (the official `openai` npm package) for
// ztgate's LLM proxy integration tests: one request per run.
//
//   node openai_client.mjs --base-url http://127.0.0.1:PORT/v1 --api-key KEY --case CASE
//        [--model M] [--message TEXT] [--header k=v]... [--include-usage]
// CASE: chat | chat_stream | models | embeddings. Defaults: model demo-small,
// message "hello world". maxRetries 0, timeout 30 s.
//
// Prints exactly one JSON line and exits 0 whenever the request was made:
//   {"ok":true,"case","content","chunks","first_chunk_ms","total_ms","models",
//    "dims","usage","request_id"}   (fields not meaningful for the case are null)
//   {"ok":false,"case","status","code","type","message","body","error_class",
//    "cause","request_id","total_ms","content","chunks","first_chunk_ms"}
//   (content/chunks/first_chunk_ms: what a stream delivered before failing)   body = the error object inside {"error":{...}} (err.error)
// request_id is the x-request-id response header (null when absent); cause is
// the network error behind a connection failure (e.g. "ECONNREFUSED").
// Bad command-line arguments: a message on stderr, exit 2.
import OpenAI from 'openai';

const CASES = ['chat', 'chat_stream', 'models', 'embeddings'];
const opts = { headers: {}, model: 'demo-small', message: 'hello world', includeUsage: false };
const argv = process.argv.slice(2);
function usage(msg) {
  process.stderr.write(`openai_client: ${msg}\n`);
  process.exit(2);
}
for (let i = 0; i < argv.length; i++) {
  const flag = argv[i];
  if (flag === '--include-usage') { opts.includeUsage = true; continue; }
  const value = argv[++i];
  if (value === undefined) usage(`missing value for ${flag}`);
  if (flag === '--base-url') opts.baseURL = value;
  else if (flag === '--api-key') opts.apiKey = value;
  else if (flag === '--case') opts.case = value;
  else if (flag === '--model') opts.model = value;
  else if (flag === '--message') opts.message = value;
  else if (flag === '--header') {
    const eq = value.indexOf('=');
    if (eq <= 0) usage(`--header wants k=v, got ${value}`);
    opts.headers[value.slice(0, eq)] = value.slice(eq + 1);
  } else usage(`unknown flag ${flag}`);
}
if (!opts.baseURL) usage('--base-url is required');
if (!CASES.includes(opts.case)) usage(`--case must be one of ${CASES.join(', ')}`);

const client = new OpenAI({
  baseURL: opts.baseURL,
  apiKey: opts.apiKey ?? 'unset',
  maxRetries: 0,
  timeout: 30000,
  defaultHeaders: opts.headers,
});

const out = {
  ok: true, case: opts.case, content: null, chunks: null, first_chunk_ms: null, total_ms: null,
  models: null, dims: null, usage: null, request_id: null,
};
const start = performance.now();
const elapsed = () => Math.round(performance.now() - start);
const requestIdOf = (headers) => headers?.get?.('x-request-id') ?? null;
const messages = [{ role: 'user', content: opts.message }];

try {
  if (opts.case === 'chat') {
    const { data, response } = await client.chat.completions.create({ model: opts.model, messages }).withResponse();
    out.request_id = requestIdOf(response.headers);
    out.content = data.choices?.[0]?.message?.content ?? null;
    out.usage = data.usage ?? null;
  } else if (opts.case === 'chat_stream') {
    const params = { model: opts.model, messages, stream: true };
    if (opts.includeUsage) params.stream_options = { include_usage: true };
    const { data: stream, response } = await client.chat.completions.create(params).withResponse();
    out.request_id = requestIdOf(response.headers);
    out.content = '';
    out.chunks = 0;
    for await (const chunk of stream) {
      if (out.chunks++ === 0) out.first_chunk_ms = elapsed();
      out.content += chunk.choices?.[0]?.delta?.content ?? '';
      if (chunk.usage) out.usage = chunk.usage;
    }
  } else if (opts.case === 'models') {
    const { data: page, response } = await client.models.list().withResponse();
    out.request_id = requestIdOf(response.headers);
    out.models = page.data.map((m) => m.id);
  } else {
    const { data, response } = await client.embeddings.create({ model: opts.model, input: opts.message }).withResponse();
    out.request_id = requestIdOf(response.headers);
    out.dims = data.data?.[0]?.embedding?.length ?? null;
    out.usage = data.usage ?? null;
  }
  out.total_ms = elapsed();
  console.log(JSON.stringify(out));
} catch (err) {
  console.log(JSON.stringify({
    ok: false,
    case: opts.case,
    status: err?.status ?? null,
    code: err?.error?.code ?? err?.code ?? null,
    type: err?.error?.type ?? null,
    message: String(err?.message ?? err),
    body: err?.error ?? null,
    error_class: err?.constructor?.name ?? null,
    cause: err?.cause ? String(err.cause.cause?.code ?? err.cause.cause?.message ?? err.cause.code ?? err.cause.message) : null,
    request_id: requestIdOf(err?.headers) ?? out.request_id,
    total_ms: elapsed(),
    // what a stream delivered before it failed (null for the other cases)
    content: out.content,
    chunks: out.chunks,
    first_chunk_ms: out.first_chunk_ms,
  }));
}
