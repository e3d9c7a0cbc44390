// A Node HTTP client going through ztgate's egress proxy, with a small proxy
// agent of its own (node:http, node:net, node:tls; no npm packages):
// absolute-form requests for http:// URLs, CONNECT + TLS for https:// URLs.
//
//   node egress_client.mjs --proxy 127.0.0.1:PORT [--key KEY] --case fetch --url URL [--ca PEM]
//       one request; prints {"connect": status|null, "status": N, "body": "...", "location": "..."}
//   node egress_client.mjs --proxy 127.0.0.1:PORT --key KEY --case forms --file FORMS --port SECRET_PORT
//       every SSRF bypass form of FORMS ({port} = SECRET_PORT), in absolute-form and
//       as a CONNECT to its host:port; prints one JSON array of
//       {"form", "mode", "status", "body"} (status 0: no HTTP answer)
// Forms Node's http module refuses to send as a path (non-ASCII) go out over a
// raw socket, byte for byte.
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import fs from "node:fs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const [proxyHost, proxyPort] = opt("--proxy").split(":");
const key = opt("--key", "");
const auth = key ? { "proxy-authorization": "Basic " + Buffer.from("agent:" + key).toString("base64") } : {};

function collect(res) {
  return new Promise((resolve) => {
    let body = "";
    res.setEncoding("latin1");
    res.on("data", (c) => (body += c));
    res.on("end", () => resolve(body));
    res.on("error", () => resolve(body));
  });
}

// Absolute-form through the proxy.
function plainRequest(url) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request({ host: proxyHost, port: proxyPort, method: "GET", path: url,
                               headers: { host: u.host, ...auth, connection: "close" } }, async (res) => {
      const body = await collect(res);
      resolve({ connect: null, status: res.statusCode, body, location: res.headers.location || "" });
    });
    req.on("error", (e) => resolve({ connect: null, status: 0, body: String(e.code || e.message) }));
    req.end();
  });
}

// CONNECT; resolves with the tunnel's socket (or the refusal).
function connectTunnel(authority) {
  return new Promise((resolve) => {
    const req = http.request({ host: proxyHost, port: proxyPort, method: "CONNECT", path: authority,
                               headers: { host: authority, ...auth } });
    req.on("connect", (res, socket, head) => {
      if (res.statusCode !== 200) {
        // The refusal's body, then done: the proxy may keep the connection open.
        const length = Number(res.headers["content-length"] || "0");
        let body = head.toString("latin1");
        const finish = () => { socket.destroy(); resolve({ status: res.statusCode, body }); };
        if (body.length >= length) return finish();
        socket.on("data", (c) => { body += c.toString("latin1"); if (body.length >= length) finish(); });
        socket.on("end", finish);
        socket.on("error", finish);
        setTimeout(finish, 3000);
        return;
      }
      resolve({ status: 200, socket });
    });
    req.on("error", (e) => resolve({ status: 0, body: String(e.code || e.message) }));
    req.end();
  });
}

// https:// through a CONNECT tunnel, TLS end to end.
async function tunneledRequest(url, ca) {
  const u = new URL(url);
  const tunnel = await connectTunnel(`${u.hostname}:${u.port || 443}`);  // IPv6 hostnames keep their brackets
  if (tunnel.status !== 200) return { connect: tunnel.status, status: 0, body: tunnel.body };
  return new Promise((resolve) => {
    const req = http.request({ method: "GET", path: u.pathname + u.search, headers: { host: u.host, connection: "close" },
      createConnection: () => tls.connect({ socket: tunnel.socket, host: u.hostname.replace(/^\[|\]$/g, ""),
                                            servername: net.isIP(u.hostname.replace(/^\[|\]$/g, "")) ? undefined : u.hostname,
                                            ca: ca ? fs.readFileSync(ca) : undefined }) }, async (res) => {
      const body = await collect(res);
      resolve({ connect: 200, status: res.statusCode, body, location: res.headers.location || "" });
    });
    req.on("error", (e) => resolve({ connect: 200, status: 0, body: String(e.code || e.message) }));
    req.end();
  });
}

// A request written byte for byte (what http.request refuses to send).
function rawRequest(head) {
  return new Promise((resolve) => {
    const s = net.connect(Number(proxyPort), proxyHost, () => s.write(Buffer.from(head, "utf8")));
    let data = "";
    const done = () => {
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    };
    s.on("data", (c) => {
      data += c.toString("latin1");
      // A complete answer (head and Content-Length bytes): done, whether or not the proxy keeps the connection.
      const end = data.indexOf("\r\n\r\n");
      const m = /\r\ncontent-length: *(\d+)/i.exec(data);
      if (end >= 0 && m && data.length >= end + 4 + Number(m[1])) done();
    });
    s.on("end", done);
    s.on("error", done);
    setTimeout(() => { s.destroy(); done(); }, 3000);
  });
}

const authLine = key ? `Proxy-Authorization: ${auth["proxy-authorization"]}\r\n` : "";

async function absoluteForm(form) {
  try {
    return await new Promise((resolve, reject) => {
      const req = http.request({ host: proxyHost, port: proxyPort, method: "GET", path: form,
                                 headers: { host: "ssrf.test", ...auth, connection: "close" } }, async (res) => {
        resolve({ status: res.statusCode, body: await collect(res) });
      });
      req.on("error", (e) => resolve({ status: 0, body: String(e.code || e.message) }));
      req.end();
    });
  } catch (e) {  // ERR_UNESCAPED_CHARACTERS: send the bytes ourselves
    return rawRequest(`GET ${form} HTTP/1.1\r\nHost: ssrf.test\r\n${authLine}Connection: close\r\n\r\n`);
  }
}

async function connectForm(authority) {
  if (/^[\x21-\x7e]+$/.test(authority)) return connectTunnel(authority);
  return rawRequest(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${authLine}\r\n`);
}

// host[:port] of a form, as a CONNECT target (port 80 when none).
function authorityOf(form) {
  let rest = form.slice(form.indexOf("://") + 3);
  rest = rest.slice(0, rest.search(/[\/?#]|$/));
  return /:\d+$/.test(rest) ? rest : rest + ":80";
}

const which = opt("--case", "fetch");
if (which === "fetch") {
  const url = opt("--url");
  const r = url.startsWith("https:") ? await tunneledRequest(url, opt("--ca", "")) : await plainRequest(url);
  console.log(JSON.stringify(r));
} else if (which === "forms") {
  const port = opt("--port");
  const forms = fs.readFileSync(opt("--file"), "utf8").split("\n")
    .filter((l) => l && !l.startsWith("#")).map((l) => l.split("  # ")[0].replaceAll("{port}", port));
  const out = [];
  for (const form of forms) {
    const a = await absoluteForm(form);
    out.push({ form, mode: "absolute", status: a.status, body: a.body.slice(0, 300) });
    const c = await connectForm(authorityOf(form));
    if (c.socket) {  // a tunnel was opened: see whether the secret answers
      c.socket.write("GET / HTTP/1.0\r\n\r\n");
      const body = await new Promise((resolve) => {
        let d = "";
        c.socket.on("data", (x) => (d += x));
        c.socket.on("end", () => resolve(d));
        setTimeout(() => resolve(d), 2000);
      });
      c.socket.destroy();
      out.push({ form, mode: "connect", status: 200, body: body.slice(0, 300) });
    } else {
      out.push({ form, mode: "connect", status: c.status, body: (c.body || "").slice(0, 300) });
    }
  }
  console.log(JSON.stringify(out));
}
process.exit(0);
