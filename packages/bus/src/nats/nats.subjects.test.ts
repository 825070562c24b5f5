import { describe, expect, it } from 'vitest';
import { durableName, eventFilter, eventSubject, subjectToken } from './nats.subjects.js';
import { nakDelay, resolveNatsBusOptions } from './nats-bus.options.js';

describe('NATS subjects', () => {
  it('names event, workspace and service: rgpu.svc.intent.456.svc-…', () => {
    expect(eventSubject('rgpu', 'service.intent', 456, 'svc-abc123')).toBe('rgpu.svc.intent.456.svc-abc123');
    expect(eventSubject('rgpu', 'service.status', 7, 'svc-x')).toBe('rgpu.svc.status.7.svc-x');
    expect(eventFilter('rgpu', 'service.intent')).toBe('rgpu.svc.intent.>');
  });

  it('encodes ids a subject token cannot hold, keeping distinct ids distinct', () => {
    const ids = ['svc.a', 'svc*a', 'svc>a', 'svc a', 'svc%2Ea', ''];
    const tokens = ids.map(subjectToken);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_%-]+$/);
    expect(new Set(tokens).size).toBe(ids.length);
  });

  it('names one durable consumer per group and event, with only characters a consumer name may hold', () => {
    expect(durableName('provisioner', 'service.intent')).toBe('provisioner__service_intent');
    expect(durableName('a.b c*', 'service.status')).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('NATS bus options', () => {
  it('defaults: file stream limits, a 2-minute duplicate window, bounded redelivery', () => {
    const o = resolveNatsBusOptions({ url: 'nats://x' });
    expect(o.streamName).toBe('RGPU_EVENTS');
    expect(o.subjectPrefix).toBe('rgpu');
    expect(o.stream.duplicateWindowMs).toBeGreaterThanOrEqual(120_000);
    expect(o.publish.deadlineMs).toBeLessThan(o.stream.duplicateWindowMs);
    expect(o.group.maxDeliver).toBe(5);
  });

  it('refuses settings that would let a retried publish be stored twice', () => {
    expect(() => resolveNatsBusOptions({ url: 'x', stream: { duplicateWindowMs: 60_000 } })).toThrow(/2 minutes/);
    expect(() => resolveNatsBusOptions({ url: 'x', publish: { deadlineMs: 180_000 } })).toThrow(/duplicate window/);
  });

  it('backs off exponentially between redeliveries, capped', () => {
    const group = resolveNatsBusOptions({ url: 'x', group: { nakDelayMs: 500, nakMaxDelayMs: 3_000 } }).group;
    expect([1, 2, 3, 4, 5].map((n) => nakDelay(group, n))).toEqual([500, 1_000, 2_000, 3_000, 3_000]);
  });
});
