import { describe, expect, it } from 'vitest';
import type { ReplicaPhase } from '../runtime.port.js';
import { planRollout, type PlanReplica } from './rollout.plan.js';

let seq = 0;
const replica = (id: string, phase: ReplicaPhase, current = true, gpus = 0): PlanReplica => ({ id, seq: ++seq, current, phase, gpus });
const plan = (desired: number, replicas: PlanReplica[], extra: { canCreate?: boolean; gpuPerReplica?: number; freeGpus?: number } = {}) =>
  planRollout({ desired, replicas, canCreate: true, gpuPerReplica: 0, freeGpus: 0, ...extra });

describe('planRollout', () => {
  it('creates the missing replicas of a service at once', () => {
    expect(plan(3, [replica('a', 'ready')])).toEqual({ create: 2, terminate: [], handover: null });
  });

  it('scales down not-ready replicas first, then the newest', () => {
    const replicas = [replica('old', 'ready'), replica('mid', 'ready'), replica('starting', 'starting'), replica('new', 'ready')];
    expect(plan(2, replicas).terminate).toEqual(['starting', 'new']);
  });

  it('does not count terminating replicas as live', () => {
    expect(plan(2, [replica('a', 'ready'), replica('b', 'terminating')]).create).toBe(1);
  });

  it('surges one new replica and keeps every old ready one while it is not ready', () => {
    const olds = [replica('o1', 'ready', false), replica('o2', 'ready', false)];
    expect(plan(2, olds)).toEqual({ create: 1, terminate: [], handover: null });
    expect(plan(2, [...olds, replica('n1', 'starting')])).toEqual({ create: 0, terminate: [], handover: null });
  });

  it('retires one old replica once a new one is ready', () => {
    const replicas = [replica('o1', 'ready', false), replica('o2', 'ready', false), replica('n1', 'ready')];
    expect(plan(2, replicas)).toEqual({ create: 0, terminate: ['o2'], handover: null });
  });

  it('retires old replicas that are not ready without waiting for new ones', () => {
    const replicas = [replica('o1', 'restarting', false), replica('o2', 'ready', false)];
    expect(plan(2, replicas)).toEqual({ create: 1, terminate: ['o1'], handover: null });
  });

  it('creates nothing and keeps the old replicas when the new template cannot run here', () => {
    const replicas = [replica('o1', 'ready', false), replica('o2', 'ready', false)];
    expect(plan(2, replicas, { canCreate: false })).toEqual({ create: 0, terminate: [], handover: null });
  });

  it('scales down during a rollout without going below the desired ready count', () => {
    const replicas = [replica('o1', 'ready', false), replica('o2', 'ready', false), replica('o3', 'ready', false)];
    expect(plan(1, replicas, { canCreate: false }).terminate).toEqual(['o3', 'o2']);
  });

  it('hands an old replica\'s GPUs to a surge replica that cannot get any', () => {
    const replicas = [replica('o1', 'ready', false, 1), replica('n1', 'pending')];
    expect(plan(1, replicas, { gpuPerReplica: 1, freeGpus: 0 })).toEqual({ create: 0, terminate: ['o1'], handover: { from: 'o1' } });
    // Not while GPUs are free anyway, and not a second time while an old replica is still giving its GPUs back.
    expect(plan(1, replicas, { gpuPerReplica: 1, freeGpus: 1 }).handover).toBeNull();
    const handingOver = [replica('o1', 'terminating', false, 1), replica('o2', 'ready', false, 1), replica('n1', 'pending')];
    expect(plan(2, handingOver, { gpuPerReplica: 1, freeGpus: 0 }).handover).toBeNull();
  });

  it('does not hand over when no old replica holds enough GPUs', () => {
    const replicas = [replica('o1', 'ready', false, 1), replica('n1', 'pending')];
    expect(plan(1, replicas, { gpuPerReplica: 2, freeGpus: 0 }).handover).toBeNull();
  });
});
