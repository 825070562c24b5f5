import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KV, type NatsConnection } from 'nats';
import pino from 'pino';
import { startNatsServer, type NatsServerProcess } from '@remotegpu/testkit';
import { NatsKvLease, type LeaderTerm } from '../src/index.js';

/**
 * The provisioner's leader election against the real NATS server (NATS_URL, default the machine's 4222). These
 * tests fail, never skip, when the server cannot be reached. Timings are short versions of the production ones.
 */
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const TIMING = { ttlMs: 1_500, renewMs: 300, pollMs: 50 };
const silent = pino({ level: 'silent' });

interface TermRecord {
  holder: string;
  startedAt: number;
  stoppedAt: number | null;
}

/** Every term any candidate started, in order, so a test can check that no two ever overlapped. */
class Terms {
  readonly all: TermRecord[] = [];

  lead(holder: string, opts: { stopMs?: number } = {}): () => Promise<LeaderTerm> {
    return async () => {
      const record: TermRecord = { holder, startedAt: performance.now(), stoppedAt: null };
      this.all.push(record);
      return {
        stop: async () => {
          if (opts.stopMs) await sleep(opts.stopMs);
          record.stoppedAt ??= performance.now();
        },
      };
    };
  }

  running(): TermRecord[] {
    return this.all.filter((t) => t.stoppedAt === null);
  }

  /** No term started before the previous one had stopped. */
  assertNoOverlap(): void {
    for (let i = 1; i < this.all.length; i++) {
      const before = this.all[i - 1];
      expect(before.stoppedAt, `term ${i - 1} (${before.holder}) still ran when term ${i} started`).not.toBeNull();
      expect(this.all[i].startedAt).toBeGreaterThanOrEqual(before.stoppedAt!);
    }
  }
}

describe('NatsKvLease (real NATS)', () => {
  const bucket = `rgpu_lease_test_${process.pid}_${randomUUID().slice(0, 8)}`;
  let admin: NatsConnection;
  const connections: NatsConnection[] = [];
  const leases: NatsKvLease[] = [];

  beforeAll(async () => {
    admin = await connect({ servers: NATS_URL, timeout: 3_000 });
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.stop().catch(() => undefined)));
    await Promise.all(connections.splice(0).map((c) => c.close().catch(() => undefined)));
  });
  afterAll(async () => {
    const kv = await admin.jetstream().views.kv(bucket);
    await kv.destroy();
    await admin.close();
  });

  async function kvHandle(): Promise<{ nc: NatsConnection; kv: KV }> {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
    connections.push(nc);
    const kv = await nc.jetstream({ timeout: TIMING.renewMs }).views.kv(bucket, { history: 1 });
    return { nc, kv };
  }

  async function candidate(key: string, holder: string, timing: Partial<typeof TIMING> = {}): Promise<{ lease: NatsKvLease; nc: NatsConnection }> {
    const { nc, kv } = await kvHandle();
    const lease = new NatsKvLease({ kv, key, holder, logger: silent, ...TIMING, ...timing });
    leases.push(lease);
    return { lease, nc };
  }

  it('of two candidates exactly one leads, and keeps leading while it renews', async () => {
    const key = `two-${randomUUID().slice(0, 8)}`;
    const terms = new Terms();
    const a = await candidate(key, 'a');
    const b = await candidate(key, 'b');
    await Promise.all([a.lease.start(terms.lead('a')), b.lease.start(terms.lead('b'))]);
    await until(() => terms.all.length === 1);
    // Several TTLs: renewals keep the lease, the standby never takes over, nobody leads twice.
    const roles = await sample(3 * TIMING.ttlMs, () => [a.lease.role(), b.lease.role()]);
    expect(roles.every((r) => r.filter((x) => x === 'leader').length === 1)).toBe(true);
    expect(terms.all).toHaveLength(1);
    const leaderName = terms.all[0].holder;
    expect([a, b].find((c) => c.lease.role() === 'leader')?.lease.holder).toBe(leaderName);
  });

  it('hands over on stop: the leader stops its term, releases the lease, and the standby leads within a poll', async () => {
    const key = `handover-${randomUUID().slice(0, 8)}`;
    const terms = new Terms();
    const first = await candidate(key, 'first');
    await first.lease.start(terms.lead('first', { stopMs: 200 }));
    await until(() => first.lease.role() === 'leader');
    const second = await candidate(key, 'second');
    await second.lease.start(terms.lead('second'));
    await sleep(3 * TIMING.pollMs);
    expect(second.lease.role()).toBe('standby');

    const stoppedAt = performance.now();
    await first.lease.stop();
    await until(() => second.lease.role() === 'leader');
    // Released, not expired: well under one TTL after the stop returned.
    expect(performance.now() - stoppedAt).toBeLessThan(TIMING.ttlMs);
    expect(first.lease.role()).toBe('stopped');
    expect(terms.all.map((t) => t.holder)).toEqual(['first', 'second']);
    terms.assertNoOverlap();
  });

  it('a standby takes over once the holder stops renewing, and the holder stopped its term before that', async () => {
    const key = `takeover-${randomUUID().slice(0, 8)}`;
    const terms = new Terms();
    const holder = await candidate(key, 'holder');
    await holder.lease.start(terms.lead('holder'));
    await until(() => holder.lease.role() === 'leader');
    const standby = await candidate(key, 'standby');
    await standby.lease.start(terms.lead('standby'));
    await sleep(2 * TIMING.renewMs);

    // The holder loses NATS (as a crashed or cut-off process would): no renewal reaches the server any more.
    const cutAt = performance.now();
    await holder.nc.close();
    await until(() => standby.lease.role() === 'leader', 4 * TIMING.ttlMs);
    const takeoverMs = performance.now() - cutAt;
    // Not before the TTL (the standby waits for the lease to stand still that long), not much after it.
    expect(takeoverMs).toBeGreaterThanOrEqual(TIMING.ttlMs - TIMING.renewMs);
    expect(takeoverMs).toBeLessThan(TIMING.ttlMs + 4 * TIMING.pollMs + 500);
    // Fencing: the cut-off holder stopped reconciling on its own, before the standby's term began.
    expect(holder.lease.role()).toBe('standby');
    expect(terms.all.map((t) => t.holder)).toEqual(['holder', 'standby']);
    terms.assertNoOverlap();
  });

  it('when several candidates try at once, compare-and-set lets exactly one win, on a fresh key and on an expired one', async () => {
    const key = `race-${randomUUID().slice(0, 8)}`;
    const terms = new Terms();
    const racers = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((name) => candidate(key, name)));
    await Promise.all(racers.map((r) => r.lease.start(terms.lead(r.lease.holder))));
    await until(() => terms.all.length >= 1);
    await sleep(TIMING.ttlMs);
    expect(terms.all).toHaveLength(1);

    // The leader dies: three standbys see the same revision expire at about the same time and race for it.
    const leader = racers.find((r) => r.lease.role() === 'leader')!;
    await leader.nc.close();
    await until(() => terms.running().length === 1 && terms.all.length === 2, 4 * TIMING.ttlMs);
    await sleep(TIMING.ttlMs);
    expect(terms.all).toHaveLength(2);
    expect(racers.filter((r) => r.lease.role() === 'leader')).toHaveLength(1);
    terms.assertNoOverlap();
  });

  it('the compare-and-set itself: a write on a stale revision is refused', async () => {
    const key = `cas-${randomUUID().slice(0, 8)}`;
    const { kv } = await kvHandle();
    const first = await kv.create(key, 'a');
    await expect(kv.create(key, 'b')).rejects.toMatchObject({ api_error: { err_code: 10071 } });
    await kv.update(key, 'c', first);
    await expect(kv.update(key, 'd', first)).rejects.toMatchObject({ api_error: { err_code: 10071 } });
  });

  it('a leader whose term cannot start gives the lease up for the other candidate', async () => {
    const key = `broken-${randomUUID().slice(0, 8)}`;
    const terms = new Terms();
    const broken = await candidate(key, 'broken');
    await broken.lease.start(async () => {
      throw new Error('runtime cannot start');
    });
    await sleep(3 * TIMING.pollMs);
    const healthy = await candidate(key, 'healthy');
    await healthy.lease.start(terms.lead('healthy'));
    await until(() => healthy.lease.role() === 'leader', 2 * TIMING.ttlMs);
    expect(broken.lease.role()).toBe('standby');
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function sample<T>(durationMs: number, read: () => T): Promise<T[]> {
  const out: T[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    out.push(read());
    await sleep(20);
  }
  return out;
}

/**
 * A broker restart as the lead's resilience tests do it (an own nats-server, never the shared one): a short outage
 * must not cost the leader its term (no replica restarts); a long one fences it, and it takes its own lease back
 * as soon as the broker returns, since nobody else can have led meanwhile.
 */
describe('NatsKvLease across a broker restart (own nats-server)', () => {
  let server: NatsServerProcess;
  const leases: NatsKvLease[] = [];
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.stop().catch(() => undefined)));
    await Promise.all(connections.splice(0).map((c) => c.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  async function candidate(key: string, holder: string): Promise<NatsKvLease> {
    const nc = await connect({ servers: server.url, timeout: 3_000, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    connections.push(nc);
    const kv = await nc.jetstream({ timeout: TIMING.renewMs }).views.kv('rgpu_leases', { history: 1 });
    const lease = new NatsKvLease({ kv, key, holder, logger: silent, ...TIMING });
    leases.push(lease);
    return lease;
  }

  it('a short outage costs the leader nothing: same term before and after, the standby never leads', async () => {
    const terms = new Terms();
    const leader = await candidate('short', 'leader');
    await leader.start(terms.lead('leader'));
    await until(() => leader.role() === 'leader');
    const standby = await candidate('short', 'standby');
    await standby.start(terms.lead('standby'));
    await sleep(2 * TIMING.renewMs);

    await server.kill('SIGKILL');
    await sleep(TIMING.renewMs);
    await server.start();
    // Well past a TTL after the broker came back: renewals resumed, nothing changed hands.
    await sleep(TIMING.ttlMs + 500);
    expect(terms.all.map((t) => [t.holder, t.stoppedAt])).toEqual([['leader', null]]);
    expect([leader.role(), standby.role()]).toEqual(['leader', 'standby']);
  });

  it('a long outage fences the leader; it leads again as soon as the broker is back, before the standby could', async () => {
    const terms = new Terms();
    const leader = await candidate('long', 'leader');
    await leader.start(terms.lead('leader'));
    await until(() => leader.role() === 'leader');
    const standby = await candidate('long', 'standby');
    await standby.start(terms.lead('standby'));
    await sleep(2 * TIMING.renewMs);

    await server.kill('SIGKILL');
    await until(() => terms.running().length === 0, 2 * TIMING.ttlMs);
    expect(leader.role()).toBe('standby');
    await sleep(TIMING.ttlMs); // longer than a TTL without a broker: still nobody may lead
    expect(terms.all).toHaveLength(1);

    const back = performance.now();
    await server.start();
    await until(() => terms.running().length === 1, 2 * TIMING.ttlMs);
    expect(performance.now() - back).toBeLessThan(TIMING.ttlMs);
    expect(terms.all.map((t) => t.holder)).toEqual(['leader', 'leader']);
    terms.assertNoOverlap();
    await sleep(TIMING.ttlMs);
    expect([leader.role(), standby.role()]).toEqual(['leader', 'standby']);
  });
});
