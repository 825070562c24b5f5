import { describe, expect, it } from 'vitest';
import { supersedes, VersionGate } from './event-order.js';

describe('status event ordering by record version', () => {
  it('applies newer and equal versions, refuses older ones', () => {
    expect(supersedes(3, undefined)).toBe(true);
    expect(supersedes(4, 3)).toBe(true);
    expect(supersedes(3, 3)).toBe(true);
    expect(supersedes(2, 3)).toBe(false);
  });

  it('VersionGate: a redelivered or reordered event never moves a service backwards', () => {
    const gate = new VersionGate();
    const ev = (version: number, deleted = false) => ({ serviceId: 'svc-a', version, deleted });
    expect(gate.admit(ev(2))).toBe(true);
    expect(gate.admit(ev(5))).toBe(true);
    expect(gate.admit(ev(3))).toBe(false);
    expect(gate.admit({ serviceId: 'svc-b', version: 1, deleted: false })).toBe(true);
    expect(gate.admit(ev(5))).toBe(true);
  });

  it('VersionGate: nothing comes back after a deletion, whatever its version says', () => {
    const gate = new VersionGate();
    expect(gate.admit({ serviceId: 'svc-a', version: 7, deleted: true })).toBe(true);
    expect(gate.admit({ serviceId: 'svc-a', version: 8, deleted: false })).toBe(false);
    expect(gate.admit({ serviceId: 'svc-a', version: 7, deleted: true })).toBe(true);
  });

  it('VersionGate: memory is bounded', () => {
    const gate = new VersionGate(2);
    gate.admit({ serviceId: 'a', version: 5, deleted: false });
    gate.admit({ serviceId: 'b', version: 5, deleted: false });
    gate.admit({ serviceId: 'c', version: 5, deleted: false });
    // 'a' was forgotten: an old event for it passes again (the documented cost of the bound).
    expect(gate.admit({ serviceId: 'a', version: 1, deleted: false })).toBe(true);
    expect(gate.admit({ serviceId: 'c', version: 1, deleted: false })).toBe(false);
  });
});
