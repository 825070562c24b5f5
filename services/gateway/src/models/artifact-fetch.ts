import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isAppError } from '@remotegpu/core';
import { resolveAllowedAddresses, type ResolvedAddress } from './address-policy.js';
import { artifactErrors } from './artifact-errors.js';
import { streamToFile, type FileDigest } from './artifact-sink.js';

export interface FetchLimits {
  maxBytes: number;
  /** Deadline for the whole download: DNS, connect, headers and body. */
  timeoutMs: number;
  allowPrivateHosts: boolean;
}

/**
 * Downloads an http(s) artifact into `destPath`. The host is resolved once, every address is checked, and the
 * connection goes to those checked addresses (a pinned `lookup`), so DNS rebinding cannot redirect it inside.
 * Redirects are not followed: the next hop would need the same checks, and a model URL should be final anyway.
 * Every failure is a 422 on `artifact_uri`; the partial file is the caller's to remove.
 */
export async function downloadToFile(url: URL, destPath: string, limits: FetchLimits): Promise<FileDigest> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  const { signal } = controller;
  try {
    const addresses = await untilAborted(resolveAllowedAddresses(url.hostname, limits.allowPrivateHosts), signal);
    const response = await get(url, addresses, signal);
    checkResponse(response, limits.maxBytes);
    return await streamToFile(response, destPath, {
      maxBytes: limits.maxBytes,
      tooLarge: () => artifactErrors.tooLarge('artifact_uri', limits.maxBytes),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw artifactErrors.timedOut(limits.timeoutMs);
    if (isAppError(err)) throw err;
    throw artifactErrors.fetchFailed(describe(err), err);
  } finally {
    clearTimeout(timer);
  }
}

function get(url: URL, addresses: ResolvedAddress[], signal: AbortSignal): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: 'GET',
      signal,
      // A fresh agent per download: a pooled socket must never carry a request to another host's address.
      agent: false,
      lookup: pinnedLookup(addresses),
      headers: { accept: 'application/octet-stream, */*', 'user-agent': 'remotegpu-gateway' },
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

function checkResponse(response: IncomingMessage, maxBytes: number): void {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.destroy();
      throw artifactErrors.tooLarge('artifact_uri', maxBytes);
    }
    return;
  }
  response.destroy();
  if (status >= 300 && status < 400) throw artifactErrors.redirect(status);
  throw artifactErrors.httpStatus(status);
}

/** Answers the socket's DNS question with the addresses already checked, never asking DNS again. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
    if (wanted.length === 0) {
      callback(Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all) {
      callback(null, wanted.map((a) => ({ address: a.address, family: a.family })));
    } else {
      callback(null, wanted[0].address, wanted[0].family);
    }
  };
}

/** dns.lookup cannot be cancelled; this lets the deadline win the race anyway. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** An error code such as ECONNREFUSED says enough and, unlike a message, never echoes an address back. */
function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}
