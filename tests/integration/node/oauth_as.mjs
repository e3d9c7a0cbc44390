// A minimal OAuth 2.0 authorization server for the MCP integration tests
// (npm jose for the JWTs): client_credentials only, tokens are ES256 JWTs
// whose "aud" is the RFC 8707 `resource` the client asked for.
//
//   node oauth_as.mjs --jwks OUT.json --clients '{"alice":{"secret":"s","groups":["finance"]}}'
// Prints "listening <port>"; writes the public JWKS to OUT.json first.
// Routes:
//   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
//   POST /token                                    client_secret_basic or _post; grant_type=client_credentials
//   GET  /mint?sub=alice&aud=X                     a token for tests (any audience)
import http from 'node:http';
import fs from 'node:fs';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const arg = (n) => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const clients = JSON.parse(arg('clients') ?? '{}');
const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'as-1', alg: 'ES256', use: 'sig' };
fs.writeFileSync(arg('jwks'), JSON.stringify({ keys: [jwk] }));

let issuer = '';
const mint = (sub, aud) =>
  new SignJWT({ groups: clients[sub]?.groups ?? [], scope: 'tools' })
    .setProtectedHeader({ alg: 'ES256', kid: 'as-1', typ: 'JWT' })
    .setIssuer(issuer).setSubject(sub).setAudience(aud).setIssuedAt().setExpirationTime('5m')
    .sign(privateKey);

const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (req.method === 'GET' && url.pathname === '/.well-known/oauth-authorization-server') {
    return json(res, 200, {
      issuer, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/authorize`, grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: ['token'],
    });
  }
  if (req.method === 'GET' && url.pathname === '/mint') {
    return json(res, 200, { access_token: await mint(url.searchParams.get('sub'), url.searchParams.get('aud')) });
  }
  if (req.method === 'POST' && url.pathname === '/token') {
    let body = '';
    for await (const c of req) body += c;
    const form = new URLSearchParams(body);
    let id = form.get('client_id'), secret = form.get('client_secret');
    const basic = req.headers.authorization?.match(/^Basic (.+)$/i);
    if (basic) [id, secret] = Buffer.from(basic[1], 'base64').toString().split(':').map(decodeURIComponent);
    if (!clients[id] || clients[id].secret !== secret) return json(res, 401, { error: 'invalid_client' });
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    const aud = form.get('resource');
    if (!aud) return json(res, 400, { error: 'invalid_target', error_description: 'resource is required' });
    return json(res, 200, { access_token: await mint(id, aud), token_type: 'Bearer', expires_in: 300, scope: 'tools' });
  }
  json(res, 404, { error: 'not_found' });
});
server.listen(Number(arg('port') ?? 0), '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  console.log(`listening ${server.address().port}`);
});
