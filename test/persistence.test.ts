import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, COLOR_LABELS, tempDir } from '@remotegpu/testkit';
import { spawnStandalone, type StandaloneProcess } from './support/process.js';
import { waitFor } from './support/client.js';
import { expectHistory } from './support/history.js';

/**
 * `npm start` as a user runs it: a real process on a data directory, stopped with SIGTERM and started
 * again on the same directory. Everything written through the API must still be there, and the
 * generated secret must be reused so earlier tokens keep working.
 */
describe('standalone process persistence', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let first: StandaloneProcess | undefined;
  let second: StandaloneProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('rgpu-persist-');
  });
  afterAll(async () => {
    await first?.stop('SIGKILL');
    await second?.stop('SIGKILL');
    await dir.cleanup();
  });

  it('keeps services, models, versions and history across a restart', async () => {
    first = await spawnStandalone({ RGPU_DATA_DIR: dir.path });
    expect(first.adminToken, first.output()).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    const token = first.adminToken!;
    const api = (base: string) => async (method: string, path: string, body?: unknown | FormData) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}),
        },
        body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
      return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
    };
    const call = api(first.url);
    const statusIs = (get: ReturnType<typeof api>, id: string, status: string, readyReplicas: number) =>
      waitFor(
        () => get('GET', `/inference/services/${id}`),
        (r) => r.status === 200 && r.body.data.status === status && r.body.data.ready_replicas === readyReplicas,
        `${id} ${status} with ${readyReplicas} ready`,
      );

    const model = await call('POST', '/models', { name: 'colors', workspace_id: 7, framework: 'onnx' });
    expect(model.status).toBe(201);
    const modelId = model.body.data.model_id;
    const form = new FormData();
    form.set('version', 'v1');
    form.set('labels', JSON.stringify(COLOR_LABELS));
    form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
    const version = await call('POST', `/models/${modelId}/versions`, form);
    expect(version.status, JSON.stringify(version.body)).toBe(201);

    const created = await call('POST', '/inference/services', {
      name: 'keeper', workspace_id: 7, model_id: modelId, model_version: 'v1', cpu: 2, memory: 8589934592, replicas: 2,
    });
    expect(created.status).toBe(201);
    const id = created.body.data.service_id;
    const stopped = await call('POST', '/inference/services', {
      name: 'sleeper', workspace_id: 7, model_id: modelId, model_version: 'v1',
    });
    const sleeperId = stopped.body.data.service_id;
    await call('POST', `/inference/services/${sleeperId}/stop`);
    const deleted = await call('POST', '/inference/services', { name: 'gone', workspace_id: 7, model_id: modelId, model_version: 'v1' });
    expect((await call('DELETE', `/inference/services/${deleted.body.data.service_id}`)).status).toBe(204);
    // Settled before the snapshot: the keeper up, the sleeper down.
    await statusIs(call, id, 'running', 2);
    await statusIs(call, sleeperId, 'stopped', 0);

    const before = await call('GET', `/inference/services/${id}`);
    const beforeList = await call('GET', '/inference/services');
    const beforeModel = await call('GET', `/models/${modelId}`);
    const beforeEvents = await call('GET', `/inference/services/${sleeperId}/events`);
    const beforeKeeperEvents = await call('GET', `/inference/services/${id}/events`);

    expect(await first.stop('SIGTERM')).toBe(0); // graceful shutdown exits cleanly
    first = undefined;

    second = await spawnStandalone({ RGPU_DATA_DIR: dir.path });
    const again = api(second.url);
    // The old token still works: the generated secret was reused, not regenerated.
    expect((await again('GET', `/inference/services/${id}`)).status).toBe(200);
    // The restarted process brings the wanted replicas back (new processes, so the status may dip meanwhile);
    // once they are up, the detail is what it was. Only updated_at moves (the provisioner wrote the dip), and
    // endpoint_url names the new process's port.
    const after = await statusIs(again, id, 'running', 2);
    // replica_states name the new processes (replica ids are random per process), so they are left out too.
    const moving = { endpoint_url: undefined, updated_at: undefined, replica_states: undefined };
    expect({ ...after.body.data, ...moving }).toEqual({ ...before.body.data, ...moving });
    expect(after.body.data).toMatchObject({ name: 'keeper', cpu: 2, memory: 8589934592, replicas: 2, workspace_id: 7, status_reason: null });
    expect(after.body.data.updated_at >= before.body.data.updated_at).toBe(true);
    // A stopped service stays stopped: the desired state survived, not only the record.
    expect((await again('GET', `/inference/services/${sleeperId}`)).body.data).toMatchObject({ status: 'stopped', ready_replicas: 0 });

    const afterList = await again('GET', '/inference/services');
    expect(afterList.body.data.pagination.total).toBe(2);
    expect(afterList.body.data.items.map((s: { service_id: string }) => s.service_id)).toEqual(
      beforeList.body.data.items.map((s: { service_id: string }) => s.service_id),
    );
    expect((await again('GET', `/inference/services/${deleted.body.data.service_id}`)).status).toBe(404);
    expect((await again('GET', `/models/${modelId}`)).body).toEqual(beforeModel.body);
    // History is append-only: what was there before the restart is still there, in order; the restarted
    // provisioner may only have added status changes after it.
    const afterEvents = await again('GET', `/inference/services/${sleeperId}/events`);
    expect(afterEvents.body.data.items.slice(0, beforeEvents.body.data.items.length)).toEqual(beforeEvents.body.data.items);
    expectHistory(beforeEvents.body.data.items, ['created', 'stop_requested']);
    expectHistory(afterEvents.body.data.items, ['created', 'stop_requested']);
    expect(beforeEvents.body.data.items.at(-1)).toMatchObject({ type: 'status_changed', status: 'stopped' });
    const afterKeeperEvents = await again('GET', `/inference/services/${id}/events`);
    expect(afterKeeperEvents.body.data.items.slice(0, beforeKeeperEvents.body.data.items.length)).toEqual(beforeKeeperEvents.body.data.items);
    expectHistory(afterKeeperEvents.body.data.items, ['created']);
    expect(afterKeeperEvents.body.data.items.at(-1)).toMatchObject({ type: 'status_changed', status: 'running' });

    // The name stays taken across the restart.
    const dup = await again('POST', '/inference/services', { name: 'keeper', workspace_id: 7, model_id: modelId, model_version: 'v1' });
    expect(dup.status).toBe(409);
    expect(await second.stop('SIGTERM')).toBe(0);
    second = undefined;
  }, 90_000);

  it('refuses to start with a bad configuration, naming each variable', async () => {
    await expect(spawnStandalone({ RGPU_DATA_DIR: dir.path, PORT: 'x', RGPU_RUNTIME: 'docker' }, 10_000)).rejects.toThrowError(
      /exited with 78[\s\S]*PORT[\s\S]*RGPU_RUNTIME/,
    );
  });
});
