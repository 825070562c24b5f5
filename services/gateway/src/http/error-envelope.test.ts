import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, ErrorCode, errors } from '@remotegpu/core';
import { errorHandler, notFoundHandler } from './error-envelope.js';
import { requestContext } from './request-context.middleware.js';

/** The one error mapper, over real HTTP: what a client sees, and what the operator's log gets. */

let server: Server | undefined;

afterEach(async () => {
  server?.close();
  server = undefined;
});

async function serve(fail: () => unknown): Promise<{ url: string; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const app = express();
  app.use(requestContext(logger));
  app.post('/fail', express.json(), () => {
    throw fail();
  });
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs };
}

describe('errorHandler', () => {
  it('turns an unknown error into 500/50000 with a generic text, logging it (with its stack) but never sending it', async () => {
    const { url, logs } = await serve(() => new Error('db password is hunter2'));
    const res = await fetch(`${url}/fail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"secret":"body"}' });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ code: 50000, message: '服务器内部错误' });
    expect(text).not.toContain('hunter2');
    const failure = logs.find((l) => l.msg === 'request failed');
    expect(JSON.stringify(failure)).toContain('hunter2');
    const access = logs.find((l) => l.msg === 'request')!;
    expect(access).toMatchObject({ method: 'POST', path: '/fail', status: 500 });
    expect(typeof access.requestId).toBe('string');
    expect(JSON.stringify(logs)).not.toContain('"secret"'); // bodies are never logged
  });

  it('maps an AppError by code, localizes message and field messages, and sets Retry-After', async () => {
    const err = new AppError(ErrorCode.TooManyRequests, { zh: '太忙', en: 'busy' }, {
      retryAfter: 2.2,
      fields: [{ field: 'replicas', message: { zh: '太多', en: 'too many' } }],
    });
    const { url } = await serve(() => err);
    const zh = await fetch(`${url}/fail`, { method: 'POST' });
    expect(zh.status).toBe(429);
    expect(zh.headers.get('retry-after')).toBe('3');
    expect(await zh.json()).toEqual({ code: 42900, message: '太忙', data: { errors: [{ field: 'replicas', message: '太多' }] } });
    const en = await fetch(`${url}/fail`, { method: 'POST', headers: { 'accept-language': 'en-GB' } });
    expect(await en.json()).toEqual({ code: 42900, message: 'busy', data: { errors: [{ field: 'replicas', message: 'too many' }] } });
  });

  it('leaves data out when an error names no field, and answers unknown routes with the 404 envelope', async () => {
    const { url } = await serve(() => errors.serviceNotFound('svc-x'));
    const res = await fetch(`${url}/fail`, { method: 'POST', headers: { 'accept-language': 'en' } });
    expect(await res.json()).toEqual({ code: 40400, message: 'Inference service not found: svc-x' });
    const missing = await fetch(`${url}/elsewhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: number }).code).toBe(40400);
  });
});
