#!/usr/bin/env node
// `npm run demo` — against a running `npm start`: registers a small generated ONNX colour classifier, creates a
// service, shows its status live (GraphQL subscription) until it runs, predicts on generated images and prints
// the results. No weights are downloaded: the model is built in memory (packages/testkit onnx-models).
//
// Environment: RGPU_URL (default http://127.0.0.1:$PORT, PORT defaulting to 8080 as for `npm start`), RGPU_TOKEN (default: an admin token signed with the
// secret that `npm start` generated into RGPU_DATA_DIR, ./data by default), DEMO_WORKSPACE (default 1).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { COLOR_LABELS, colorClassifierOnnx, solidImage } from '@remotegpu/testkit';
import { signToken } from '@remotegpu/auth';

const BASE = (process.env.RGPU_URL || `http://127.0.0.1:${process.env.PORT || 8080}`).replace(/\/+$/, '');

/** fetch, but a platform that is not there is named with the URL we tried and how to point elsewhere. */
async function call(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    const why = err?.cause?.code ?? err?.cause?.message ?? err.message;
    throw new Error(`could not reach ${url} (${why}): is \`npm start\` running there? Set RGPU_URL (or PORT) to point the demo elsewhere`);
  }
}
const WORKSPACE = Number(process.env.DEMO_WORKSPACE ?? 1);

async function token() {
  if (process.env.RGPU_TOKEN) return process.env.RGPU_TOKEN;
  const file = path.join(path.resolve(process.env.RGPU_DATA_DIR ?? './data'), 'jwt-secret');
  const secret = process.env.RGPU_JWT_SECRET ?? (await readFile(file, 'utf8').catch(() => {
    throw new Error(`no RGPU_TOKEN and no secret at ${file}: start the platform with \`npm start\` first, or set RGPU_TOKEN`);
  })).trim();
  return signToken(secret, { sub: 'demo', workspaces: [WORKSPACE], ttlSeconds: 3600 });
}

async function main() {
  await call(`${BASE}/healthz`); // first, so that a wrong address is what the user hears about
  const jwt = await token();
  const headers = { authorization: `Bearer ${jwt}`, 'accept-language': 'en' };
  const api = async (method, route, body) => {
    const isForm = body instanceof FormData;
    const res = await call(`${BASE}/api/v1${route}`, {
      method,
      headers: { ...headers, ...(body && !isForm ? { 'content-type': 'application/json' } : {}) },
      body: isForm ? body : body ? JSON.stringify(body) : undefined,
    });
    const json = res.status === 204 ? null : await res.json();
    if (!res.ok) throw new Error(`${method} ${route} → ${res.status} ${JSON.stringify(json)}`);
    return json?.data;
  };

  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  console.log(`1. Registering the colour classifier (3 classes: ${COLOR_LABELS.join(', ')}) …`);
  const model = await api('POST', '/models', { name: `colours-${stamp}`, workspace_id: WORKSPACE, framework: 'onnx', task: 'image-classification', description: 'demo: mean colour → red/green/blue' });
  const form = new FormData();
  form.set('version', 'v1');
  form.set('labels', JSON.stringify(COLOR_LABELS));
  form.set('file', new Blob([colorClassifierOnnx({ height: 32, width: 32 })]), 'colours.onnx');
  const version = await api('POST', `/models/${model.model_id}/versions`, form);
  console.log(`   model ${model.model_id} version ${version.version}: ${version.size_bytes} bytes, sha256 ${version.sha256.slice(0, 12)}…, input ${JSON.stringify(version.inputs[0].shape)}`);

  console.log('2. Creating an inference service with 2 replicas …');
  const wsUrl = `${BASE.replace(/^http/, 'ws')}/graphql`;
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${jwt}` }, lazy: false });
  const created = await api('POST', '/inference/services', {
    name: `colours-demo-${stamp}`, workspace_id: WORKSPACE, model_id: model.model_id, model_version: 'v1', framework: 'onnx', cpu: 1, memory: 536870912, gpu: 0, replicas: 2,
  });
  const id = created.service_id;
  const t0 = Date.now();
  console.log(`   ${id}: ${created.status}`);

  await new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error('the service did not become running within 60 s')), 60_000);
    let done = false;
    const finish = (fn) => { if (!done) { done = true; clearTimeout(timeout); unsubscribe(); fn(); } };
    const unsubscribe = client.subscribe(
      { query: `subscription($id: ID) { inferenceServiceStatusChanged(id: $id) { status reason readyReplicas replicas } }`, variables: { id } },
      {
        next: ({ data, errors }) => {
          if (errors) return finish(() => reject(new Error(JSON.stringify(errors))));
          const e = data.inferenceServiceStatusChanged;
          console.log(`   +${((Date.now() - t0) / 1000).toFixed(2)}s ${e.status.toLowerCase()} ${e.readyReplicas}/${e.replicas} ready${e.reason ? ` (${e.reason})` : ''}`);
          if (e.status === 'RUNNING' && e.readyReplicas === e.replicas) finish(resolve);
          if (e.status === 'FAILED') finish(() => reject(new Error(`service failed: ${e.reason}`)));
        },
        error: (err) => finish(() => reject(err instanceof Error ? err : new Error(JSON.stringify(err)))),
        complete: () => {},
      },
    );
    // The service may have become ready before the subscription started: check once.
    api('GET', `/inference/services/${id}`).then((s) => {
      if (s.status === 'running' && s.ready_replicas === s.replicas) {
        console.log(`   +${((Date.now() - t0) / 1000).toFixed(2)}s running ${s.ready_replicas}/${s.replicas} ready`);
        finish(resolve);
      }
    }, () => {});
  });
  await client.dispose();

  console.log(`3. Predicting through ${BASE}/inference/${id}/predict …`);
  const samples = [['red', 'png', 64, 48], ['green', 'jpeg', 100, 100], ['blue', 'webp', 20, 30], [[200, 60, 40], 'png', 224, 224]];
  for (const [color, format, width, height] of samples) {
    const image = (await solidImage(color, { format, width, height })).toString('base64');
    const res = await call(`${BASE}/inference/${id}/predict`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image }, parameters: { top_k: 3 } }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`predict → ${res.status} ${JSON.stringify(body)}`);
    const top = body.data.predictions.map((p) => `${p.class} ${(p.confidence * 100).toFixed(1)}%`).join(', ');
    console.log(`   ${JSON.stringify(color).padEnd(14)} ${format.padEnd(4)} ${width}×${height}: ${top}`);
  }
  console.log(`\nDone. The service keeps running: stop it with\n  curl -X POST -H "Authorization: Bearer $TOKEN" ${BASE}/api/v1/inference/services/${id}/stop`);
}

main().catch((err) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});
