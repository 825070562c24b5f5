import { describe, expect, it } from 'vitest';
import { acceptsTraffic, nextStatus, type LifecycleAction } from './lifecycle.js';
import { SERVICE_STATUSES, type ServiceStatus } from './service.js';

const ACTIONS: LifecycleAction['type'][] = ['stop', 'start', 'respec', 'replicasReady', 'replicasStopped', 'replicasLost', 'fail'];

/** The whole table, written out: a change to the state machine must change this on purpose. */
const EXPECTED: Record<ServiceStatus, Record<LifecycleAction['type'], ServiceStatus | 'conflict'>> = {
  creating: { stop: 'stopping', start: 'creating', respec: 'creating', replicasReady: 'running', replicasStopped: 'conflict', replicasLost: 'creating', fail: 'failed' },
  running: { stop: 'stopping', start: 'running', respec: 'updating', replicasReady: 'running', replicasStopped: 'conflict', replicasLost: 'running', fail: 'failed' },
  updating: { stop: 'stopping', start: 'updating', respec: 'updating', replicasReady: 'running', replicasStopped: 'conflict', replicasLost: 'updating', fail: 'failed' },
  stopping: { stop: 'stopping', start: 'creating', respec: 'stopping', replicasReady: 'conflict', replicasStopped: 'stopped', replicasLost: 'conflict', fail: 'conflict' },
  stopped: { stop: 'stopped', start: 'creating', respec: 'stopped', replicasReady: 'conflict', replicasStopped: 'stopped', replicasLost: 'conflict', fail: 'conflict' },
  failed: { stop: 'stopping', start: 'creating', respec: 'creating', replicasReady: 'conflict', replicasStopped: 'conflict', replicasLost: 'conflict', fail: 'failed' },
};

describe('lifecycle state machine', () => {
  for (const status of SERVICE_STATUSES) {
    for (const action of ACTIONS) {
      const expected = EXPECTED[status][action];
      it(`${status} + ${action} → ${expected}`, () => {
        const run = () => nextStatus(status, { type: action } as LifecycleAction);
        if (expected === 'conflict') expect(run).toThrowError(expect.objectContaining({ code: 40900 }));
        else expect(run()).toBe(expected);
      });
    }
  }

  it('accepts traffic only while replicas may be up', () => {
    expect(SERVICE_STATUSES.filter(acceptsTraffic)).toEqual(['creating', 'running', 'updating']);
  });
});
