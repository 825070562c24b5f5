import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { solidImage } from './images.js';
import { tempDir } from './temp.js';
import { expiredToken, signToken, unsignedToken } from './tokens.js';

describe('solidImage', () => {
  it.each(['png', 'jpeg', 'webp'] as const)('encodes %s at the requested size', async (format) => {
    const bytes = await solidImage('green', { format, width: 40, height: 24 });
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe(format);
    expect([meta.width, meta.height]).toEqual([40, 24]);
  });

  it.each([
    ['red', 0],
    ['green', 1],
    ['blue', 2],
  ] as const)('makes a %s image whose dominant channel is %i', async (color, channel) => {
    const stats = await sharp(await solidImage(color, { format: 'png' })).stats();
    const means = stats.channels.slice(0, 3).map((c) => c.mean);
    expect(means.indexOf(Math.max(...means))).toBe(channel);
    expect(stats.channels[channel].stdev).toBeGreaterThan(0); // the noise is there
  });

  it('accepts an explicit RGB colour and is deterministic', async () => {
    const a = await solidImage([10, 120, 250], { format: 'png', width: 8, height: 8 });
    const b = await solidImage([10, 120, 250], { format: 'png', width: 8, height: 8 });
    expect(a.equals(b)).toBe(true);
    const means = (await sharp(a).stats()).channels.map((c) => c.mean);
    expect(means[2]).toBeGreaterThan(230);
    expect(means[0]).toBeLessThan(25);
  });
});

describe('tokens', () => {
  const secret = 'testkit-secret-at-least-32-bytes-long!';
  const key = new TextEncoder().encode(secret);

  it('signs HS256 tokens that verify with the secret and carry the claims', async () => {
    const token = await signToken(secret, { sub: 'alice', workspaces: [456], admin: true }, { expiresInSeconds: 60 });
    const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'alice', workspaces: [456], admin: true });
    expect(payload.exp! - payload.iat!).toBe(60);
    await expect(jwtVerify(token, new TextEncoder().encode('another secret'))).rejects.toThrow();
  });

  it('makes an alg:none token with an empty signature that a verifier rejects', async () => {
    const token = unsignedToken({ sub: 'mallory', workspaces: [1] });
    expect(token.endsWith('.')).toBe(true);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'none', typ: 'JWT' });
    expect(decodeJwt(token)).toMatchObject({ sub: 'mallory', workspaces: [1] });
    expect(decodeJwt(token).exp!).toBeGreaterThan(Date.now() / 1000);
    await expect(jwtVerify(token, key)).rejects.toThrow();
  });

  it('makes a correctly signed token that has expired', async () => {
    const token = await expiredToken(secret, { sub: 'bob', workspaces: [2] });
    expect(decodeJwt(token).exp!).toBeLessThan(Date.now() / 1000 - 60);
    await expect(jwtVerify(token, key)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });
});

describe('tempDir', () => {
  it('creates a writable directory and removes it with everything inside', async () => {
    const dir = await tempDir('rgpu-testkit-');
    expect(dir.path).toContain('rgpu-testkit-');
    await writeFile(join(dir.path, 'x.txt'), 'x');
    await dir.cleanup();
    await expect(access(dir.path)).rejects.toThrow();
    await dir.cleanup(); // a second call is harmless
  });
});
