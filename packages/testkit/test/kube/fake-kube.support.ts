import type { FakeKubeApiServer } from '../../src/kube/index.js';

/** A tiny JSON client for the fake over fetch: what a test needs to drive the API by hand. */
export function kubeClient(kube: FakeKubeApiServer) {
  const request = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${kube.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${kube.token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
  return {
    request,
    get: (path: string) => request('GET', path),
    post: (path: string, body: unknown) => request('POST', path, body),
    put: (path: string, body: unknown) => request('PUT', path, body),
    patch: (path: string, body: unknown, type = 'application/merge-patch+json') => request('PATCH', path, body, type),
    del: (path: string, body?: unknown) => request('DELETE', path, body),
  };
}

export function deploymentManifest(name: string, options: { replicas?: number; image?: string; gpus?: number; probe?: boolean; labels?: Record<string, string> } = {}) {
  const labels = { app: name, ...options.labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'server',
              image: options.image ?? 'model-server:1.0',
              ports: [{ containerPort: 8080 }],
              ...(options.probe === false ? {} : { readinessProbe: { httpGet: { path: '/v2/health/ready', port: 8080 } } }),
              resources: {
                requests: { cpu: '500m', memory: '512Mi' },
                limits: { cpu: '1', memory: '1Gi', ...(options.gpus ? { 'nvidia.com/gpu': String(options.gpus) } : {}) },
              },
            },
          ],
        },
      },
    },
  };
}
