// Kubernetes runtime benchmark (issue 8): the adapter against the fake kube-apiserver with BENCH_K8S_SERVICES (500)
// services of one replica each (simulated pods). What a provisioner resync costs when nothing changed — API requests
// and writes seen by the API server, wall time — what one real change costs, a full informer re-list, the cold
// start of a runtime (list + watch of everything), and the informers' memory. Prints one table.
// Usage: npm run bench:kubernetes   (BENCH_K8S_SERVICES, BENCH_K8S_ROUNDS)
import { performance } from 'node:perf_hooks';
import { KubernetesRuntime } from '@remotegpu/runtime';
import { startFakeKubeApiServer } from '@remotegpu/testkit';

const SERVICES = Number(process.env.BENCH_K8S_SERVICES ?? 500);
const ROUNDS = Number(process.env.BENCH_K8S_ROUNDS ?? 5);
const NAMESPACE = 'rgpu-bench';
const PARALLEL = 16;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gc = globalThis.gc ?? null;

function heapMiB() {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function spec(i, overrides = {}) {
  const serviceId = `svc-bench${String(i).padStart(11, '0')}`;
  return {
    serviceId,
    workspaceId: 1 + (i % 20),
    generation: 1,
    replicas: 1,
    cpu: 0.1,
    memory: 256 * 2 ** 20,
    gpu: 0,
    model: {
      name: serviceId,
      modelId: 1 + (i % 50),
      version: 'v1',
      artifact: { uri: `https://models.example.com/m-${i % 50}.onnx`, sha256: 'ab'.repeat(32), sizeBytes: 4 * 2 ** 20, access: 'none' },
      labels: ['red', 'green', 'blue'],
      preprocessing: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], size: [224, 224] },
    },
    ...overrides,
  };
}

async function eachParallel(items, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function runtimeFor(kube) {
  return new KubernetesRuntime({
    kubeconfig: { kind: 'file', path: kube.kubeconfigPath },
    namespace: NAMESPACE,
    image: 'registry.example.com/remotegpu:bench',
    relistIntervalMs: 0,
  });
}

/** What the provisioner's resync asks of the runtime: the held ids, then apply + observe for every service. */
async function resync(runtime, specs) {
  await runtime.services();
  await eachParallel(specs, async (s) => {
    await runtime.apply(s);
    await runtime.observe(s.serviceId);
  });
}

/** Requests the API server served from `from` on, watches excluded (they are long-lived streams, not calls). */
function callsSince(kube, from) {
  return kube.requests.slice(from).filter((r) => r.verb !== 'watch').length;
}

async function main() {
  const nodes = Array.from({ length: Math.ceil(SERVICES / 100) + 1 }, (_, i) => ({ name: `node-${i}`, cpu: 64, memory: '512Gi', pods: 110 }));
  const kube = await startFakeKubeApiServer({ namespaces: [NAMESPACE], nodes, timing: { startMs: 5, readyMs: 20 } });
  const specs = Array.from({ length: SERVICES }, (_, i) => spec(i));
  const rows = [];
  try {
    // Create every service and wait until each has its ready replica.
    const creator = runtimeFor(kube);
    await creator.start();
    let t = performance.now();
    await eachParallel(specs, (s) => creator.apply(s));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = (await Promise.all(specs.map((s) => creator.observe(s.serviceId)))).filter((o) => o.replicas.length === 1 && o.replicas[0].phase === 'ready').length;
      if (ready === SERVICES) break;
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${SERVICES} services ready after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    rows.push([`create ${SERVICES} services → all ready`, `${((performance.now() - t) / 1000).toFixed(2)} s`, `${kube.writesSince(0).length} writes`]);
    await creator.stop();

    // Informer memory and cold start: a fresh runtime lists and watches everything.
    const before = heapMiB();
    const runtime = runtimeFor(kube);
    let from = kube.requests.length;
    t = performance.now();
    await runtime.start();
    const coldMs = performance.now() - t;
    const after = heapMiB();
    const cached = runtime.stats().cachedObjects;
    rows.push(['cold start (list + watch of 4 resources)', `${coldMs.toFixed(0)} ms`, `${callsSince(kube, from)} list calls, ${cached} objects cached`]);
    rows.push([
      'informer memory (heap after GC)',
      `${(after - before).toFixed(1)} MiB`,
      gc ? `${(((after - before) * 1024) / SERVICES).toFixed(1)} KiB per service` : 'run with node --expose-gc for a GC-settled figure',
    ]);

    // Resync with nothing changed: the first one after a start may still repair; then ROUNDS measured ones.
    await resync(runtime, specs);
    const times = [];
    const calls = [];
    const writes = [];
    for (let round = 0; round < ROUNDS; round++) {
      from = kube.requests.length;
      const sent = runtime.stats();
      t = performance.now();
      await resync(runtime, specs);
      times.push(performance.now() - t);
      calls.push(callsSince(kube, from));
      writes.push(kube.writesSince(from).length);
      if (runtime.stats().writes !== sent.writes) writes.push(runtime.stats().writes - sent.writes);
    }
    rows.push([`resync, nothing changed (apply + observe × ${SERVICES}), median of ${ROUNDS}`, `${median(times).toFixed(1)} ms`, `${Math.max(...calls)} API calls, ${Math.max(...writes)} writes (target 0)`]);

    // One service scaled: exactly one write, the rest still free.
    const changed = specs.map((s, i) => (i === 0 ? { ...s, replicas: 2, generation: 2 } : s));
    from = kube.requests.length;
    t = performance.now();
    await resync(runtime, changed);
    rows.push(['resync, one service scaled', `${(performance.now() - t).toFixed(1)} ms`, `${callsSince(kube, from)} API calls, ${kube.writesSince(from).length} writes (expected 1)`]);

    // A full re-list of every informer (the periodic safety net, default every 10 min).
    from = kube.requests.length;
    t = performance.now();
    await runtime.relist();
    rows.push(['informer re-list (all 4 resources)', `${(performance.now() - t).toFixed(0)} ms`, `${callsSince(kube, from)} list calls, 0 writes`]);
    await runtime.stop();
  } finally {
    await kube.stop();
  }

  const width = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\nKubernetes runtime on the fake kube-apiserver: ${SERVICES} services, 1 replica each\n`);
  console.log(`${'measure'.padEnd(width[0])} | ${'value'.padStart(width[1])} | detail`);
  console.log(`${'-'.repeat(width[0])}-|-${'-'.repeat(width[1])}-|-------`);
  for (const [name, value, detail] of rows) console.log(`${name.padEnd(width[0])} | ${value.padStart(width[1])} | ${detail}`);
}

await main();
