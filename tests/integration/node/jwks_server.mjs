// A test identity provider over real TLS (node's builtin https; no npm
// packages): serves an OIDC discovery document and a JWKS read from a file on
// every request (so the test rotates keys by rewriting the file), and can be
// told to fail (503) or hang. Used by jwks_https_itest.cpp.
//
//   node jwks_server.mjs --cert server.pem --key server-key.pem --jwks jwks.json
// Prints "listening <port>" once bound to 127.0.0.1 on an ephemeral port.
//
// Routes:
//   /.well-known/openid-configuration  {"issuer":"https://localhost:<port>",
//                                       "jwks_uri":"https://localhost:<port>/jwks.json"}
//   /jwks.json                         the file, with Cache-Control: max-age=<maxAge>
//   /redirect                          302 to /jwks.json
//   /big                               a 2 MiB body
//   /_control?mode=ok|fail|hang&max_age=N&reset=1
//                                      sets the behavior (never affected by
//                                      mode); answers {"mode","maxAge","counts"}
import fs from 'node:fs';
import https from 'node:https';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

let mode = 'ok';
let maxAge = 600;
let counts = { discovery: 0, jwks: 0 };
const hung = [];

const server = https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) }, (req, res) => {
  const url = new URL(req.url, 'https://localhost');
  const origin = `https://localhost:${server.address().port}`;
  if (url.pathname === '/_control') {
    const q = url.searchParams;
    if (q.has('mode')) mode = q.get('mode');
    if (q.has('max_age')) maxAge = Number(q.get('max_age'));
    if (q.has('reset')) counts = { discovery: 0, jwks: 0 };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ mode, maxAge, counts }));
    return;
  }
  if (url.pathname === '/.well-known/openid-configuration') counts.discovery++;
  else if (url.pathname === '/jwks.json') counts.jwks++;
  if (mode === 'fail') {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('unavailable');
    return;
  }
  if (mode === 'hang') {
    hung.push(res);  // never answered; kept so it is not collected
    return;
  }
  if (url.pathname === '/.well-known/openid-configuration') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': `max-age=${maxAge}` });
    res.end(JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks.json` }));
  } else if (url.pathname === '/jwks.json') {
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': `public, max-age=${maxAge}` });
    res.end(fs.readFileSync(args.jwks));
  } else if (url.pathname === '/redirect') {
    res.writeHead(302, { location: '/jwks.json' });
    res.end();
  } else if (url.pathname === '/big') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('x'.repeat(2 * 1024 * 1024));
  } else {
    res.writeHead(404);
    res.end();
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
