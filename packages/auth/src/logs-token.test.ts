import { describe, expect, it } from 'vitest';
import { artifactTokenIssuer } from './artifact-token.js';
import { logsTokenIssuer, logsTokenVerifier } from './logs-token.js';
import { signToken } from './jwt.js';

const SECRET = 'logs-token-secret-0123456789-abcdefghij';

describe('logs tokens (gateway → provisioner internal logs endpoint)', () => {
  it('open exactly the service they were minted for, under the same secret only', async () => {
    const token = await logsTokenIssuer(SECRET).issue('svc-aaaaaaaaaaaaaaaa');
    const verifier = logsTokenVerifier(SECRET);
    expect(await verifier.opens(token, 'svc-aaaaaaaaaaaaaaaa')).toBe(true);
    expect(await verifier.opens(token, 'svc-bbbbbbbbbbbbbbbb')).toBe(false);
    expect(await logsTokenVerifier(`${SECRET}-other`).opens(token, 'svc-aaaaaaaaaaaaaaaa')).toBe(false);
  });

  it('are neither user tokens nor artifact tokens, and those are not logs tokens', async () => {
    const verifier = logsTokenVerifier(SECRET);
    const user = await signToken(SECRET, { sub: 'svc-aaaaaaaaaaaaaaaa', workspaces: [1], admin: true, ttlSeconds: 60 });
    expect(await verifier.opens(user, 'svc-aaaaaaaaaaaaaaaa')).toBe(false);
    const artifact = artifactTokenIssuer(SECRET).issue({ modelId: 1, version: 'v1', sha256: 'a'.repeat(64) }).token;
    expect(await verifier.opens(artifact, 'svc-aaaaaaaaaaaaaaaa')).toBe(false);
    expect(await verifier.opens('not-a-jwt', 'svc-aaaaaaaaaaaaaaaa')).toBe(false);
  });
});
