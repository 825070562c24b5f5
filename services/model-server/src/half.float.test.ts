import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from './half.float.js';

describe('half precision', () => {
  it('encodes the values a half holds exactly, and round-trips them', () => {
    const cases: [number, number][] = [[0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [Infinity, 0x7c00], [-Infinity, 0xfc00]];
    for (const [value, bits] of cases) {
      expect(toHalf(value), String(value)).toBe(bits);
      expect(Object.is(fromHalf(bits), value), String(value)).toBe(true);
    }
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });

  it('rounds to nearest, ties to even, and overflows to Infinity', () => {
    expect(fromHalf(toHalf(0.1))).toBeCloseTo(0.0999755859375, 12); // the nearest half to 0.1
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie between 1 and 1+2^-10: the even one
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalf(70000)).toBe(0x7c00);
    expect(toHalf(2 ** -26)).toBe(0); // below half the smallest subnormal
  });
});
