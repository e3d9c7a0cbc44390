// connect_rate.mjs -- CONNECT tunnels per second through ztgate's egress
// proxy, each carrying one HTTP request (a new tunnel per request: what a
// client without keep-alive through HTTPS_PROXY does), against the same
// loop with a new direct connection per request.
//
//   node bench/wrk/connect_rate.mjs --target 127.0.0.1:UP --path /hello [--proxy 127.0.0.1:P --key K]
//                                   [--concurrency 32] [--seconds 10]
// Prints one JSON line {requests, errors, seconds, rps, p50_ms, p99_ms}.
import net from "node:net";

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const [th, tp] = opt("--target").split(":");
const path = opt("--path", "/");
const proxy = opt("--proxy", "");
const key = opt("--key", "");
const concurrency = Number(opt("--concurrency", "32"));
const seconds = Number(opt("--seconds", "10"));
const request = `GET ${path} HTTP/1.1\r\nHost: ${th}:${tp}\r\nConnection: close\r\n\r\n`;

function once() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const [h, p] = proxy ? proxy.split(":") : [th, tp];
    const s = net.connect(Number(p), h);
    let stage = proxy ? "connect" : "request";
    let data = "";
    const fail = () => { s.destroy(); resolve(-1); };
    s.on("connect", () => {
      if (proxy) s.write(`CONNECT ${th}:${tp} HTTP/1.1\r\nHost: ${th}:${tp}\r\nProxy-Authorization: Bearer ${key}\r\n\r\n`);
      else s.write(request);
    });
    s.on("data", (c) => {
      data += c.toString("latin1");
      if (stage === "connect") {
        const end = data.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!data.startsWith("HTTP/1.1 200")) return fail();
        data = data.slice(end + 4);
        stage = "request";
        s.write(request);
      }
    });
    s.on("end", () => {
      s.destroy();
      if (!data.startsWith("HTTP/1.1 200")) return resolve(-1);
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
    s.on("error", fail);
    s.setTimeout(10000, fail);
  });
}

const deadline = Date.now() + seconds * 1000;
const latencies = [];
let errors = 0;
const t0 = Date.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (Date.now() < deadline) {
    const ms = await once();
    if (ms < 0) errors++;
    else latencies.push(ms);
  }
}));
const elapsed = (Date.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const q = (f) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] : 0);
console.log(JSON.stringify({ requests: latencies.length, errors, seconds: elapsed, rps: latencies.length / elapsed,
                             p50_ms: q(0.5), p99_ms: q(0.99) }));
