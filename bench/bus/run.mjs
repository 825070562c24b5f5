// Bus benchmark (issue 7): the JetStream adapter of the EventBus port (publish + consume through NatsBus)
// against a bare `nats` JetStream publish/consume loop on the same server, with the same payload, the same
// publish window and the same pull batch. Two paths: a group (durable pull consumer, explicit ack: intents)
// and a plain subscription (ordered consumer: status fan-out). Prints one table, medians of ROUNDS rounds.
// Usage: npm run bench:bus   (NATS_URL, BENCH_BUS_MESSAGES, BENCH_BUS_ROUNDS, BENCH_BUS_WINDOW)
import { randomBytes, randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, connect, nanos } from 'nats';
import { NatsBus } from '@remotegpu/bus';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const MESSAGES = Number(process.env.BENCH_BUS_MESSAGES ?? 5_000);
const ROUNDS = Number(process.env.BENCH_BUS_ROUNDS ?? 5);
/** Publishes in flight at once, for both sides: what a busy gateway or provisioner would have. */
const WINDOW = Number(process.env.BENCH_BUS_WINDOW ?? 32);
/** The adapter's default pull batch (nats-bus.options.ts), used by the bare loop too. */
const BATCH = 32;
const TARGET = 0.8;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quietLogger = { error: (c, m) => console.error(m, c), warn: () => undefined };

/** A realistic status event (two ready replicas), identical for both sides apart from its id. */
function statusEvent(serviceId) {
  return {
    eventId: randomUUID(),
    serviceId,
    workspaceId: 456,
    at: new Date().toISOString(),
    correlationId: randomUUID(),
    status: 'running',
    previousStatus: 'creating',
    reason: 'replicas_ready',
    params: { ready: 2, replicas: 2 },
    message: '2 of 2 replicas ready',
    readyReplicas: 2,
    replicas: 2,
    endpoints: [
      { replicaId: 'r-1', url: 'http://127.0.0.1:40001' },
      { replicaId: 'r-2', url: 'http://127.0.0.1:40002' },
    ],
    generation: 3,
    version: 7,
    deleted: false,
  };
}

function isolated(label) {
  const id = randomBytes(4).toString('hex');
  return { streamName: `RGPU_BENCH_${label}_${id}`, subjectPrefix: `rgpubench.${label.toLowerCase()}${id}` };
}

/** Publishes `events` with at most WINDOW in flight. */
async function publishAll(events, publishOne) {
  let next = 0;
  const worker = async () => {
    while (next < events.length) await publishOne(events[next++]);
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

function counter(total) {
  let count = 0;
  let resolve;
  const done = new Promise((r) => (resolve = r));
  return { tick: () => ++count === total && resolve(), done };
}

async function deleteStream(jsm, name) {
  await jsm.streams.delete(name).catch(() => undefined);
}

/** NatsBus: connect (stream setup untimed), subscribe, then time publish of MESSAGES until the last is handled. */
async function adapterRound(mode, jsm, messages = MESSAGES) {
  const naming = isolated(`ADAPTER_${mode}`);
  const bus = await NatsBus.connect({ url: NATS_URL, logger: quietLogger, ...naming, connectionName: 'bench-adapter' });
  try {
    const events = Array.from({ length: messages }, () => statusEvent('svc-bench000000000'));
    const received = counter(messages);
    await bus.subscribe('service.status', () => received.tick(), mode === 'group' ? { group: 'bench' } : {});
    const started = performance.now();
    await publishAll(events, (e) => bus.publish('service.status', e));
    await received.done;
    return messages / ((performance.now() - started) / 1000);
  } finally {
    await bus.close();
    await deleteStream(jsm, naming.streamName);
  }
}

/** The same work with the bare client: the same stream settings, subject shape, msgID, batch and window. */
async function bareRound(mode, jsm, messages = MESSAGES) {
  const naming = isolated(`BARE_${mode}`);
  const nc = await connect({ servers: NATS_URL, name: 'bench-bare' });
  try {
    await jsm.streams.add({
      name: naming.streamName,
      subjects: [`${naming.subjectPrefix}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(24 * 3_600_000),
      max_bytes: 512 * 1024 * 1024,
      duplicate_window: nanos(120_000),
    });
    const js = nc.jetstream();
    const filter = `${naming.subjectPrefix}.svc.status.>`;
    let consumer;
    if (mode === 'group') {
      await jsm.consumers.add(naming.streamName, {
        durable_name: 'bench',
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(30_000),
        max_deliver: 5,
      });
      consumer = await js.consumers.get(naming.streamName, 'bench');
    } else {
      consumer = await js.consumers.get(naming.streamName, { filterSubjects: filter, deliver_policy: DeliverPolicy.New });
    }
    const events = Array.from({ length: messages }, () => statusEvent('svc-bench000000000'));
    const received = counter(messages);
    const iterator = await consumer.consume({
      max_messages: BATCH,
      callback: (m) => {
        JSON.parse(new TextDecoder().decode(m.data));
        if (mode === 'group') m.ack();
        received.tick();
      },
    });
    const subject = `${naming.subjectPrefix}.svc.status.456.svc-bench000000000`;
    const started = performance.now();
    await publishAll(events, (e) => js.publish(subject, new TextEncoder().encode(JSON.stringify(e)), { msgID: e.eventId }));
    await received.done;
    const rate = messages / ((performance.now() - started) / 1000);
    await iterator.close();
    return rate;
  } finally {
    await nc.close();
    await deleteStream(jsm, naming.streamName);
  }
}

async function main() {
  let admin;
  try {
    admin = await connect({ servers: NATS_URL, timeout: 3_000 });
  } catch (err) {
    console.error(`bench/bus: NATS JetStream is not reachable at ${NATS_URL} (NATS_URL): ${err.message}. Run \`nats-server -js\`.`);
    process.exit(1);
  }
  const jsm = await admin.jetstreamManager();
  console.log(`bench/bus: ${MESSAGES} status events per round, ${ROUNDS} rounds, ${WINDOW} publishes in flight, pull batch ${BATCH}, ${NATS_URL}`);
  const rows = [];
  for (const mode of ['group', 'plain']) {
    const adapter = [];
    const bare = [];
    // One short round each, not counted: JIT and first-use costs (schemas, codecs) out of the way.
    await adapterRound(mode, jsm, Math.min(1_000, MESSAGES));
    await bareRound(mode, jsm, Math.min(1_000, MESSAGES));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which side goes first, so a warming server or page cache favours neither.
      if (round % 2 === 0) {
        adapter.push(await adapterRound(mode, jsm));
        bare.push(await bareRound(mode, jsm));
      } else {
        bare.push(await bareRound(mode, jsm));
        adapter.push(await adapterRound(mode, jsm));
      }
    }
    // Each round runs both sides back to back, so its ratio compares them under the same machine load; the
    // ratio quoted is the median of those paired ratios (on a shared machine, load drifts between rounds).
    const ratios = adapter.map((a, i) => a / bare[i]);
    rows.push({ mode, adapter: median(adapter), bare: median(bare), ratio: median(ratios), rounds: { adapter, bare, ratios } });
  }
  await admin.close();

  const label = { group: 'group (durable pull, explicit ack)', plain: 'plain (ordered consumer fan-out)' };
  const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(9);
  console.log('');
  console.log('| path                                | NatsBus msg/s | bare nats msg/s | ratio (paired median) | target |');
  console.log('|-------------------------------------|---------------|-----------------|-----------------------|--------|');
  let failed = false;
  for (const row of rows) {
    const ratio = row.ratio;
    if (ratio < TARGET) failed = true;
    console.log(`| ${label[row.mode].padEnd(35)} | ${fmt(row.adapter).padStart(13)} | ${fmt(row.bare).padStart(15)} | ${ratio.toFixed(2).padStart(21)} | ≥ ${TARGET} ${ratio >= TARGET ? '✓' : '✗'} |`);
  }
  console.log('');
  for (const row of rows) {
    const list = (xs, digits = 0) => xs.map((n) => n.toFixed(digits)).join(', ');
    console.log(`rounds ${row.mode}: NatsBus ${list(row.rounds.adapter)}; bare ${list(row.rounds.bare)}; ratios ${list(row.rounds.ratios, 2)}`);
  }
  if (failed) console.log(`\nbelow the ${TARGET} target on at least one path`);
}

await main();
