import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestContext } from './request-context.middleware.js';

/** Issue 6, point 19: probes polled every few seconds must not flood the info-level access log. */

const lines: { level: number; path: string; status: number }[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
let url: string;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.use(requestContext(pino({ level: 'debug' }, sink)));
  for (const probe of ['/healthz', '/readyz', '/metrics']) app.get(probe, (_req, res) => void res.send('ok'));
  app.get('/api/v1/things', (_req, res) => void res.send('[]'));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close?.());

async function levelOf(path: string): Promise<number> {
  const before = lines.length;
  await (await fetch(`${url}${path}`)).text();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const entry = lines.slice(before).find((l) => l.path === path);
  if (!entry) throw new Error(`no access-log line for ${path}`);
  return entry.level;
}

describe('access log levels', () => {
  it.each(['/healthz', '/readyz', '/metrics'])('%s logs at debug', async (path) => {
    expect(await levelOf(path)).toBe(20);
  });

  it('API requests (and failing probes) log at info', async () => {
    expect(await levelOf('/api/v1/things')).toBe(30);
    expect(await levelOf('/healthz/nope')).toBe(30);
  });
});
