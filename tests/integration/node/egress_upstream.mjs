// Destinations for ztgate's egress proxy tests (node:http and node:https
// only; no npm packages).
//
//   node egress_upstream.mjs --host 127.0.0.77 [--tls-cert PEM --tls-key PEM] [--secret TEXT]
// Prints one line {"port": N, "tls_port": M} once bound (tls_port only with
// a certificate). Routes (plain and TLS alike):
//   GET /hello              200 "hello from the lab"
//   GET /redirect?to=URL    302 to URL (the proxy must not follow it)
//   GET /echo               200 {method, url, headers}: what arrived (hop-by-hop stripped?)
//   GET /bytes?n=N          200 with N bytes, chunked (throughput)
// With --secret TEXT every path answers 200 TEXT: a server an SSRF would reach.
import http from "node:http";
import https from "node:https";
import fs from "node:fs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const host = opt("--host", "127.0.0.1");
const secret = opt("--secret", "");

function handle(req, res) {
  const url = new URL(req.url, "http://destination");
  if (secret) {
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end(secret);
  }
  if (url.pathname === "/hello") {
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end("hello from the lab");
  }
  if (url.pathname === "/redirect") {
    res.writeHead(302, { location: url.searchParams.get("to") || "/" });
    return res.end();
  }
  if (url.pathname === "/echo") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    });
    return;
  }
  if (url.pathname === "/bytes") {
    const n = Number(url.searchParams.get("n") || "0");
    res.writeHead(200, { "content-type": "application/octet-stream" });
    const chunk = Buffer.alloc(16384, 120);
    let left = n;
    while (left > 0) {
      res.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      left -= chunk.length;
    }
    return res.end();
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}

// Idle keep-alive connections close after 200 ms: the proxy must notice a
// kept connection the destination closed and retry on a fresh one.
const plain = http.createServer(handle);
plain.keepAliveTimeout = 200;
plain.listen(0, host, () => {
  const out = { port: plain.address().port };
  const cert = opt("--tls-cert", "");
  if (!cert) return console.log(JSON.stringify(out));
  const secure = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(opt("--tls-key")) }, handle);
  secure.listen(0, host, () => {
    out.tls_port = secure.address().port;
    console.log(JSON.stringify(out));
  });
});
process.on("SIGTERM", () => process.exit(0));
