import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '@remotegpu/core';
import { ClientGoneError, readBody } from './body.reader.js';
import { sendErrorAnswer, sendJson } from './error.writer.js';

/** The one body reader of the data plane, over real HTTP: what the router and the model server rely on. */

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

type Outcome = { body: string } | { error: string };

async function serve(limit: number): Promise<{ port: number; outcomes: Outcome[] }> {
  const outcomes: Outcome[] = [];
  server = createServer((req, res) => {
    readBody(req, limit).then(
      (body) => {
        outcomes.push({ body: body.toString() });
        sendJson(res, 200, JSON.stringify({ length: body.length }));
      },
      (err: unknown) => {
        outcomes.push({ error: err instanceof ClientGoneError ? 'gone' : isAppError(err) ? String(err.code) : String(err) });
        if (isAppError(err)) sendErrorAnswer(res, err, 'en', { connection: 'close' });
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, outcomes };
}

describe('readBody', () => {
  it('reads a sized and a chunked body whole', async () => {
    const { port } = await serve(1024);
    const sized = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x'.repeat(1000) });
    expect(await sized.json()).toEqual({ length: 1000 });
    const chunked = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('ab')); c.enqueue(new TextEncoder().encode('cd')); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(await chunked.json()).toEqual({ length: 4 });
  });

  it('with alignAt, puts that byte on an 8-byte boundary of a buffer of its own, sized or chunked', async () => {
    const seen: { offset: number; own: boolean; text: string }[] = [];
    server = createServer((req, res) => {
      void readBody(req, 1 << 20, { alignAt: Number(req.headers['x-align']) }).then((body) => {
        seen.push({ offset: body.byteOffset + Number(req.headers['x-align']), own: body.buffer.byteLength - body.byteOffset === body.length, text: body.toString() });
        sendJson(res, 200, '{}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const text = 'header-json' + 'x'.repeat(50);
    for (const align of [0, 3, 5, 11]) {
      await fetch(url, { method: 'POST', headers: { 'x-align': String(align) }, body: text });
      const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(text.slice(0, 7))); c.enqueue(new TextEncoder().encode(text.slice(7))); c.close(); } });
      await fetch(url, { method: 'POST', headers: { 'x-align': String(align) }, body: stream, duplex: 'half' } as RequestInit);
    }
    expect(seen).toHaveLength(8);
    for (const s of seen) {
      expect(s.offset % 8).toBe(0); // a Float64Array could view the data from byte alignAt on
      expect(s.own).toBe(true); // never a slice of Node's shared pool: safe to hand to a worker
      expect(s.text).toBe(text);
    }
  });

  it('answers 413 from Content-Length alone, and while a chunked body passes the limit', async () => {
    const { port } = await serve(10);
    const declared = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x'.repeat(11), headers: { 'accept-language': 'en' } });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ code: 41300, message: 'Request body too large; the limit is 10 bytes' });
    const chunked = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array(8)); c.enqueue(new Uint8Array(8)); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('rejects with ClientGoneError when the client leaves mid-body', async () => {
    const { port, outcomes } = await serve(1024);
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': '100' } });
    req.on('error', () => {});
    req.write('only a part');
    await new Promise((r) => setTimeout(r, 50)); // the part must reach the server before the socket goes
    req.destroy();
    await expect.poll(() => outcomes).toEqual([{ error: 'gone' }]);
  });
});
