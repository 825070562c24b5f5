#!/usr/bin/env node
// A container healthcheck without curl or wget (the node:*-slim images have neither):
//   node scripts/probe.mjs http://127.0.0.1:8080/readyz
// exits 0 when the URL answers 200 within 3 s, else 1 with one line saying why.
const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node scripts/probe.mjs <url>\n');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  await res.body?.cancel();
  if (res.status === 200) process.exit(0);
  process.stderr.write(`${url} answered ${res.status}\n`);
} catch (err) {
  process.stderr.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
}
process.exit(1);
