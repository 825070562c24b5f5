import { describe, expect, it } from 'vitest';
import type { V1ContainerStatus, V1Deployment, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { RuntimeServiceSpec } from '../runtime.port.js';
import { tuningEnv } from '../model-server.tuning.js';
import { observationOf } from './observation.mapping.js';

const ID = 'svc-abcdefghij123456';
const OPTIONS = { crashLoopRestarts: 3 };

function deployment(generation: number, templateHash: string, conditions: V1Deployment['status'] = {}): V1Deployment {
  return {
    metadata: { name: ID, generation: 4, annotations: { 'remotegpu.io/generation': String(generation) } },
    spec: { selector: {}, template: { metadata: { labels: { 'remotegpu.io/template-hash': templateHash } } } },
    status: { observedGeneration: 4, ...conditions },
  };
}

interface PodShape {
  name: string;
  hash?: string;
  templateGeneration?: number;
  ready?: boolean;
  ip?: string;
  scheduled?: { status: 'True' | 'False'; reason?: string; message?: string };
  container?: Partial<V1ContainerStatus>;
  deleting?: boolean;
  created?: string;
  gpu?: number;
  env?: Record<string, string>;
}

function pod(p: PodShape): V1Pod {
  const conditions: V1PodCondition[] = [];
  if (p.scheduled) conditions.push({ type: 'PodScheduled', ...p.scheduled });
  else conditions.push({ type: 'PodScheduled', status: 'True' });
  conditions.push({ type: 'Ready', status: p.ready ? 'True' : 'False' });
  return {
    metadata: {
      name: p.name,
      labels: { 'remotegpu.io/service-id': ID, 'remotegpu.io/template-hash': p.hash ?? 'h1' },
      annotations: { 'remotegpu.io/template-generation': String(p.templateGeneration ?? 1) },
      creationTimestamp: (p.created ?? '2026-01-01T00:00:00Z') as unknown as Date,
      ...(p.deleting ? { deletionTimestamp: '2026-01-01T00:01:00Z' as unknown as Date } : {}),
    },
    spec: {
      containers: [
        {
          name: 'model-server',
          image: 'reg/img:1',
          resources: { limits: { 'nvidia.com/gpu': String(p.gpu ?? 0) } },
          ...(p.env ? { env: Object.entries(p.env).map(([name, value]) => ({ name, value })) } : {}),
        },
      ],
    },
    status: {
      phase: p.scheduled?.status === 'False' ? 'Pending' : 'Running',
      podIP: p.ip,
      conditions,
      containerStatuses: [{ name: 'model-server', image: 'reg/img:1', imageID: '', ready: !!p.ready, restartCount: 0, ...p.container }],
    },
  };
}

describe('observation from the Deployment and its pods', () => {
  it('nothing held → the empty observation', () => {
    expect(observationOf(ID, undefined, [], OPTIONS)).toEqual({ serviceId: ID, generation: null, replicas: [], condition: null });
  });

  it('ready pods: their own IP and port as the url, the Deployment generation for the current template', () => {
    const o = observationOf(ID, deployment(2, 'h1'), [pod({ name: 'b', ready: true, ip: '10.0.0.2', created: '2026-01-01T00:00:02Z' }), pod({ name: 'a', ready: true, ip: '10.0.0.1' })], OPTIONS);
    expect(o.generation).toBe(2);
    expect(o.condition).toBeNull();
    expect(o.replicas.map((r) => [r.replicaId, r.phase, r.url, r.generation])).toEqual([
      ['a', 'ready', 'http://10.0.0.1:8080', 2],
      ['b', 'ready', 'http://10.0.0.2:8080', 2],
    ]);
  });

  it('during a rollout an old pod reports the generation of its template; a not-ready pod has no url', () => {
    const o = observationOf(ID, deployment(3, 'h2'), [pod({ name: 'old', ready: true, ip: '10.0.0.1' }), pod({ name: 'new', hash: 'h2', templateGeneration: 3, ip: '10.0.0.9' })], OPTIONS);
    expect(o.replicas.map((r) => [r.replicaId, r.generation, r.phase, r.url])).toEqual([
      ['new', 3, 'starting', null],
      ['old', 1, 'ready', 'http://10.0.0.1:8080'],
    ]);
  });

  it("a pod started with batching carries its in-flight cap (two batches); a pod without batching none", () => {
    const batching = { maxBatchSize: 16, maxQueueDelayMs: 5, preferredBatchSizes: [8] };
    // The variable as the manifest writes it for the model server.
    const env = tuningEnv({ cpu: 2, model: { batching } } as RuntimeServiceSpec, {});
    const o = observationOf(ID, deployment(1, 'h1'), [pod({ name: 'a', ready: true, ip: '10.0.0.1', env }), pod({ name: 'b', ready: true, ip: '10.0.0.2', env: { RGPU_INTRA_OP_THREADS: '2' } })], OPTIONS);
    expect(o.replicas[0]).toMatchObject({ replicaId: 'a', url: 'http://10.0.0.1:8080', maxInFlight: 32 });
    expect(o.replicas[1].replicaId).toBe('b');
    expect('maxInFlight' in o.replicas[1]).toBe(false);
  });

  it('IPv6 pod addresses are bracketed', () => {
    const o = observationOf(ID, deployment(1, 'h1'), [pod({ name: 'a', ready: true, ip: 'fd00::5' })], OPTIONS);
    expect(o.replicas[0].url).toBe('http://[fd00::5]:8080');
  });

  it('Pending with Insufficient nvidia.com/gpu → waiting, insufficient_gpu, the scheduler message; gone once scheduled', () => {
    const message = '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const waiting = observationOf(
      ID,
      deployment(1, 'h1'),
      [pod({ name: 'a', ready: true, ip: '10.0.0.1' }), pod({ name: 'b', gpu: 1, scheduled: { status: 'False', reason: 'Unschedulable', message } })],
      OPTIONS,
    );
    expect(waiting.replicas.find((r) => r.replicaId === 'b')).toMatchObject({ phase: 'pending', url: null, message });
    expect(waiting.condition).toEqual({ type: 'waiting', reason: 'insufficient_gpu', message: `1 replica(s) waiting for 1 free GPU(s) each: ${message}` });

    const scheduled = observationOf(ID, deployment(1, 'h1'), [pod({ name: 'a', ready: true, ip: '10.0.0.1' }), pod({ name: 'b', gpu: 1, ip: '10.0.0.2' })], OPTIONS);
    expect(scheduled.condition).toBeNull();
  });

  it('a shortage of something else (cpu) → waiting, unschedulable', () => {
    const o = observationOf(ID, deployment(1, 'h1'), [pod({ name: 'a', scheduled: { status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' } })], OPTIONS);
    expect(o.condition).toMatchObject({ type: 'waiting', reason: 'unschedulable' });
  });

  it('ErrImagePull / ImagePullBackOff → failed, image_pull_failed, with the kubelet message', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff']) {
      const message = 'Back-off pulling image "reg/img:1"';
      const o = observationOf(ID, deployment(1, 'h1'), [pod({ name: 'a', container: { state: { waiting: { reason, message } } } })], OPTIONS);
      expect(o.condition).toEqual({ type: 'failed', reason: 'image_pull_failed', params: { image: 'reg/img:1' }, message: `${reason}: ${message}` });
      expect(o.replicas[0]).toMatchObject({ phase: 'starting', message: `${reason}: ${message}` });
    }
  });

  it('CrashLoopBackOff: restarting at first, failed (crash_loop, with the last log line) after enough restarts', () => {
    const crashing = (restartCount: number, message: string) =>
      pod({ name: 'a', container: { restartCount, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', message } } } });
    const once = observationOf(ID, deployment(1, 'h1'), [crashing(1, 'boom\nTypeError: x is undefined')], OPTIONS);
    expect(once.replicas[0]).toMatchObject({ phase: 'restarting', restarts: 1, message: 'Error (exit code 1): TypeError: x is undefined' });
    expect(once.condition).toBeNull();

    const looping = observationOf(ID, deployment(1, 'h1'), [crashing(3, 'TypeError: x is undefined')], OPTIONS);
    expect(looping.condition).toMatchObject({
      type: 'failed',
      reason: 'crash_loop',
      params: { failures: 3, lastFailure: 'Error (exit code 1): TypeError: x is undefined' },
    });
    expect(looping.condition!.message).toMatch(/3 times in a row; last: Error \(exit code 1\): TypeError/);
  });

  it("the model server's failed line on the termination message names the reason (artifact_checksum_mismatch)", () => {
    const line = JSON.stringify({ event: 'failed', exit_code: 78, reason: 'sha256 mismatch', code: 'artifact_checksum_mismatch', params: { expected: 'aa', actual: 'bb' } });
    const o = observationOf(
      ID,
      deployment(1, 'h1'),
      [pod({ name: 'a', container: { restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 78, message: `${line}\n` } } } })],
      OPTIONS,
    );
    expect(o.condition).toMatchObject({ type: 'failed', reason: 'artifact_checksum_mismatch', params: { expected: 'aa', actual: 'bb', failures: 4, lastFailure: 'sha256 mismatch' } });
    expect(o.condition!.message).toMatch(/sha256 is bb, not the aa registered/);
    // A failed line without a code: the model did not load.
    const plain = JSON.stringify({ event: 'failed', exit_code: 78, reason: 'not an ONNX model' });
    const p = observationOf(ID, deployment(1, 'h1'), [pod({ name: 'a', container: { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 78, message: plain } } } })], OPTIONS);
    expect(p.condition).toMatchObject({ reason: 'model_load_failed', params: { lastFailure: 'not an ONNX model' } });
  });

  it('ProgressDeadlineExceeded → failed with the stuck pod’s message; a GPU wait outranks it', () => {
    const exceeded = { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }] };
    const stuck = pod({ name: 'a', container: { state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "s" not found' } } } });
    expect(observationOf(ID, deployment(1, 'h1', exceeded), [stuck], OPTIONS).condition).toEqual({
      type: 'failed',
      reason: 'progress_deadline_exceeded',
      message: 'no progress within the deadline: CreateContainerConfigError: secret "s" not found',
    });
    const gpuWait = pod({ name: 'a', gpu: 1, scheduled: { status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.' } });
    expect(observationOf(ID, deployment(1, 'h1', exceeded), [gpuWait], OPTIONS).condition?.reason).toBe('insufficient_gpu');
    // Not for a spec the controller has not seen yet (its condition is about the previous one).
    const stale = deployment(1, 'h1', { ...exceeded, observedGeneration: 3 });
    expect(observationOf(ID, stale, [stuck], OPTIONS).condition).toBeNull();
  });

  it('deleted pods are terminating; with the Deployment gone every pod is, and the last generation stays until none is left', () => {
    const deleting = observationOf(ID, deployment(2, 'h1'), [pod({ name: 'a', ready: true, ip: '10.0.0.1', deleting: true }), pod({ name: 'b', ready: true, ip: '10.0.0.2' })], OPTIONS);
    expect(deleting.replicas.map((r) => [r.replicaId, r.phase, r.url])).toEqual([
      ['a', 'terminating', null],
      ['b', 'ready', 'http://10.0.0.2:8080'],
    ]);
    // The garbage collector has not reached the pod yet: it still says Ready, but it is on its way out.
    const orphaned = observationOf(ID, undefined, [pod({ name: 'b', ready: true, ip: '10.0.0.2', templateGeneration: 2 })], OPTIONS);
    expect(orphaned).toEqual({
      serviceId: ID,
      generation: 2,
      condition: null,
      replicas: [expect.objectContaining({ replicaId: 'b', phase: 'terminating', url: null })],
    });
  });

  it('a paused service (scaled to 0) keeps its generation with no replicas', () => {
    expect(observationOf(ID, deployment(5, 'h1'), [], OPTIONS)).toEqual({ serviceId: ID, generation: 5, replicas: [], condition: null });
  });
});
