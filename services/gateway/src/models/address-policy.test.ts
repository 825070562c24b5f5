import { describe, expect, it } from 'vitest';
import { isPublicAddress, resolveAllowedAddresses } from './address-policy.js';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.255.1.2', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255',
    '::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::7f00:1', '::127.0.0.1',
    'localhost', 'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'allows %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('resolveAllowedAddresses', () => {
  it('refuses names that resolve to loopback unless private hosts are allowed', async () => {
    await expect(resolveAllowedAddresses('localhost', false)).rejects.toMatchObject({ code: 42200 });
    const addresses = await resolveAllowedAddresses('localhost', true);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => !isPublicAddress(a.address))).toBe(true);
  });

  it('takes IP literals, bracketed IPv6 included, without DNS', async () => {
    await expect(resolveAllowedAddresses('[::1]', false)).rejects.toMatchObject({ code: 42200 });
    expect(await resolveAllowedAddresses('[2606:4700:4700::1111]', false)).toEqual([{ address: '2606:4700:4700::1111', family: 6 }]);
  });

  it('answers 422 for a name that does not resolve', async () => {
    await expect(resolveAllowedAddresses('no-such-host.invalid', false)).rejects.toMatchObject({ code: 42200 });
  });
});
