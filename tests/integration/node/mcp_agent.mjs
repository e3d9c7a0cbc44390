// An MCP agent for the integration tests: the official TypeScript SDK's
// Client over Streamable HTTP, talking to ztgate's MCP endpoint. Reads a
// script (JSON) from the file named by argv[2] and prints one JSON line per
// step with what happened:
//   {"url": "...", "token": "...",            // a static bearer, or
//    "oauth": {"client_id", "client_secret", "issuer"},   // the SDK's 401 discovery + client_credentials
//    "steps": [{"op":"list"}, {"op":"call","name":"x","args":{}}, {"op":"prompts"},
//              {"op":"prompt","name":"x","args":{}}, {"op":"resources"}, {"op":"templates"},
//              {"op":"read","uri":"..."},
//              {"op":"sleep","ms":100}]}
// Output lines: {"op":"connect","ok":true,"protocol":"2025-11-25","session":true} then per step
// {"op", "ok", "result"} or {"op", "ok": false, "error": {"code","message","data"}}.
import fs from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const script = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = (o) => console.log(JSON.stringify(o));
const failure = (e) => ({ code: e?.code ?? null, message: String(e?.message ?? e), data: e?.data ?? null });

const options = {};
if (script.token) options.requestInit = { headers: { Authorization: `Bearer ${script.token}` } };
if (script.oauth) {
  options.authProvider = new ClientCredentialsProvider({
    clientId: script.oauth.client_id,
    clientSecret: script.oauth.client_secret,
    expectedIssuer: script.oauth.issuer,
  });
}
const transport = new StreamableHTTPClientTransport(new URL(script.url), options);
const client = new Client({ name: 'ztgate-itest-agent', version: '1.0.0' });
try {
  await client.connect(transport);
  out({ op: 'connect', ok: true, protocol: transport.protocolVersion ?? null, session: transport.sessionId ? true : false });
} catch (e) {
  out({ op: 'connect', ok: false, error: failure(e) });
  process.exit(0);
}
for (const step of script.steps ?? []) {
  try {
    let result;
    if (step.op === 'list') result = await client.listTools();
    else if (step.op === 'call') result = await client.callTool({ name: step.name, arguments: step.args ?? {} });
    else if (step.op === 'prompts') result = await client.listPrompts();
    else if (step.op === 'prompt') result = await client.getPrompt({ name: step.name, arguments: step.args ?? {} });
    else if (step.op === 'resources') result = await client.listResources();
    else if (step.op === 'templates') result = await client.listResourceTemplates();
    else if (step.op === 'read') result = await client.readResource({ uri: step.uri });
    else if (step.op === 'sleep') result = await new Promise((r) => setTimeout(() => r({}), step.ms));
    else throw new Error(`unknown op ${step.op}`);
    out({ op: step.op, ok: true, result });
  } catch (e) {
    out({ op: step.op, ok: false, error: failure(e) });
  }
}
await client.close();
