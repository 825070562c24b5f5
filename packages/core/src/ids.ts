import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_LENGTH = 16;

/**
 * `svc-` + 16 random lowercase letters/digits: 36^16 ≈ 2^82, so ids cannot be guessed or enumerated.
 * Rejection sampling keeps every character uniformly likely (256 is not a multiple of 36).
 */
export function newServiceId(): string {
  let suffix = '';
  while (suffix.length < SUFFIX_LENGTH) {
    for (const byte of randomBytes(SUFFIX_LENGTH * 2)) {
      if (byte < 252 && suffix.length < SUFFIX_LENGTH) suffix += ALPHABET[byte % 36];
    }
  }
  return `svc-${suffix}`;
}

export const SERVICE_ID_PATTERN = /^svc-[a-z0-9]{10,64}$/;

export function isServiceId(value: string): boolean {
  return SERVICE_ID_PATTERN.test(value);
}
