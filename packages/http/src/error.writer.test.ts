import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '@remotegpu/core';
import { sendErrorAnswer } from './error.writer.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

describe('sendErrorAnswer (router and model server)', () => {
  it('writes the envelope with whole-second Retry-After (0.4 s → 1, never "0.4" or "0") and the extra headers', async () => {
    const err = new AppError(ErrorCode.TooManyRequests, { zh: '请求过多', en: 'overloaded' }, { retryAfter: 0.4 });
    server = createServer((req, res) => sendErrorAnswer(res, err, req.headers['accept-language'] === 'en' ? 'en' : 'zh', { 'x-request-id': 'r-1' }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const res = await fetch(url, { headers: { 'accept-language': 'en' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-language')).toBe('en');
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ code: 42900, message: 'overloaded' });
    expect(await (await fetch(url)).json()).toEqual({ code: 42900, message: '请求过多' });
  });
});
