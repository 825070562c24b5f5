import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, echo, eventually, postJson, startHarness, type Backend, type Harness } from './router.harness.js';

/**
 * A batching replica's endpoint says how many requests it should be given at once (`maxInFlight`, two batches'
 * worth); the router's own per-replica cap (8 by default) is only the floor. Without this a replica batching 32
 * could never see more than 8 requests through the router.
 */
describe('per-replica in-flight cap from the endpoint', () => {
  let h: Harness;
  const pool = backendPool();
  let open: () => void = () => {};

  afterEach(async () => {
    open();
    await h?.close();
    await pool.closeAll();
  });

  /** A replica that holds every request until the test opens the gate: what it holds is what it was given at once. */
  async function holdingBackend(gate: Promise<void>): Promise<Backend> {
    return pool.start(async (req, res, body) => {
      await gate;
      echo(req, res, body);
    });
  }

  function gate(): Promise<void> {
    return new Promise<void>((resolve) => (open = resolve));
  }

  function send(serviceId: string, count: number): Promise<number[]> {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const res = await postJson(h, h.predictUrl(serviceId), { inputs: { image: 'x' } });
        await res.arrayBuffer();
        return res.status;
      }),
    );
  }

  it('a replica whose endpoint says 64 holds more than the router cap of 8; one that says nothing stays at 8', async () => {
    h = await startHarness();
    const released = gate();
    const batching = await holdingBackend(released);
    const plain = await holdingBackend(released);
    const svc = await h.service([{ ...batching.endpoint('batching'), maxInFlight: 64 }, plain.endpoint('plain')]);

    const done = send(svc.id, 48);
    // Both replicas fill to their caps without anything queued: 40 on the batching one, the plain one's 8.
    await eventually(() => batching.active + plain.active === 48, 10_000);
    expect(plain.maxActive).toBe(8);
    expect(batching.maxActive).toBe(40);
    expect(await h.gauge('rgpu_router_queue_depth', svc.id)).toBe(0);
    open();
    expect(await done).toEqual(Array(48).fill(200));
  });

  it('a status event that gives a known replica a cap lifts it (the event schema keeps the field)', async () => {
    h = await startHarness();
    const released = gate();
    const replica = await holdingBackend(released);
    const svc = await h.service([replica.endpoint('r')]);
    // The replica is first known without a cap (a record written before endpoints carried one), then with one.
    await h.publishStatus({ ...svc, version: svc.version + 1 });
    await h.publishStatus({ ...svc, version: svc.version + 2, endpoints: [{ ...replica.endpoint('r'), maxInFlight: 32 }] });
    const done = send(svc.id, 32);
    await eventually(() => replica.active === 32, 10_000);
    expect(replica.maxActive).toBe(32);
    open();
    expect(await done).toEqual(Array(32).fill(200));
  });
});
