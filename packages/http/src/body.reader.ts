import type { IncomingMessage } from 'node:http';
import { errors } from '@remotegpu/core';

/** The client went away before its whole body arrived: nobody is left to answer, and nothing is wrong here. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection before sending the whole body');
    this.name = 'ClientGoneError';
  }
}

/**
 * The whole request body, for the data plane (router, model server) where a body is small, read once and may be
 * sent again on a retry. Refused as soon as it is known to exceed `limit`: from Content-Length before reading a
 * byte, or while a chunked one streams in. With a length the buffer is allocated once and filled in place.
 *
 * `alignAt`: the body gets a buffer of its own in which its byte `alignAt` starts on an 8-byte boundary, so that
 * typed arrays can view the data from there without a copy (OIP binary tensor data after its JSON header).
 *
 * Rejects with the 413 AppError (`errors.payloadTooLarge`; the caller should close the connection, since the rest
 * of the body is never read) or with a {@link ClientGoneError}.
 */
export function readBody(req: IncomingMessage, limit: number, options: { alignAt?: number } = {}): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? -1 : Number(declared);
  if (length > limit) return Promise.reject(errors.payloadTooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const sized = Number.isSafeInteger(length) && length >= 0 ? allocate(length, options.alignAt) : null;
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > (sized ? sized.length : limit)) {
        settled = true;
        req.removeListener('data', onData);
        req.resume(); // let the parser run to the end of the message; the answer closes the connection
        reject(errors.payloadTooLarge(limit));
        return;
      }
      if (sized) chunk.copy(sized, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      settled = true;
      if (sized) resolve(sized.subarray(0, received));
      else if (options.alignAt !== undefined) {
        const aligned = allocate(received, options.alignAt);
        let at = 0;
        for (const chunk of chunks) at += chunk.copy(aligned, at);
        resolve(aligned);
      } else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    });
    // A client gone mid-body: 'end' never comes; 'error' (aborted) and then 'close' do.
    const gone = (): void => {
      if (settled || req.complete) return;
      settled = true;
      reject(new ClientGoneError());
    };
    req.once('error', gone);
    req.once('close', gone);
  });
}

/** `length` bytes in an ArrayBuffer of their own, byte `alignAt` on an 8-byte boundary; or from Node's pool. */
function allocate(length: number, alignAt: number | undefined): Buffer {
  if (alignAt === undefined) return Buffer.allocUnsafe(length);
  const pad = (8 - (alignAt % 8)) % 8;
  return Buffer.from(new ArrayBuffer(pad + length), pad, length);
}
