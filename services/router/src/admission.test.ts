import { describe, expect, it } from 'vitest';
import { admissionOf, expectedWaitMs, MAX_RETRY_AFTER_SECONDS, nextServiceTimeMs, retryAfterSecondsOf } from './admission.js';

const policy = { maxQueue: 256, budgetMs: 3000 };

describe('queue admission', () => {
  it('admits while nothing has been observed yet: no estimate, the deadline still bounds the wait', () => {
    expect(admissionOf({ queued: 100, slots: 8, serviceTimeMs: 0 }, policy)).toEqual({ admit: true });
  });

  it('estimates the wait as the completions needed ahead of the newcomer, at slots ÷ service time', () => {
    // 8 slots finishing a request every 80 ms each: one completion per 10 ms; the 41st in line waits ~410 ms.
    expect(expectedWaitMs({ queued: 40, slots: 8, serviceTimeMs: 80 })).toBe(410);
    expect(expectedWaitMs({ queued: 0, slots: 0, serviceTimeMs: 80 })).toBe(0);
  });

  it('refuses at once when the expected wait exceeds the budget, with a Retry-After for the excess', () => {
    // 1 slot, 100 ms each: the 31st waiter expects 3.1 s > 3 s.
    expect(admissionOf({ queued: 29, slots: 1, serviceTimeMs: 100 }, policy)).toEqual({ admit: true });
    expect(admissionOf({ queued: 30, slots: 1, serviceTimeMs: 100 }, policy)).toEqual({ admit: false, reason: 'queue_budget', retryAfterSeconds: 1 });
    // 10.1 s expected, 3 s budget: the queue needs about 7.1 s to drain to where a newcomer fits.
    expect(admissionOf({ queued: 100, slots: 1, serviceTimeMs: 100 }, policy)).toEqual({ admit: false, reason: 'queue_budget', retryAfterSeconds: 8 });
  });

  it('refuses past the queue cap whatever the estimate', () => {
    expect(admissionOf({ queued: 2, slots: 8, serviceTimeMs: 1 }, { maxQueue: 2, budgetMs: 3000 })).toEqual({ admit: false, reason: 'queue_full', retryAfterSeconds: 1 });
  });

  it('keeps Retry-After between 1 s and the cap', () => {
    expect(retryAfterSecondsOf({ queued: 0, slots: 1, serviceTimeMs: 1 }, policy)).toBe(1);
    expect(retryAfterSecondsOf({ queued: 10_000, slots: 1, serviceTimeMs: 1000 }, policy)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it('averages service time, starting from the first observation and ignoring nonsense', () => {
    expect(nextServiceTimeMs(0, 50)).toBe(50);
    expect(nextServiceTimeMs(50, 150)).toBeCloseTo(60);
    expect(nextServiceTimeMs(50, Number.NaN)).toBe(50);
  });
});
