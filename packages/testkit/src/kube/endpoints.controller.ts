import { randomSuffix } from './kube-defaults.js';
import { isPodReady } from './kube-pods.js';
import { resourceForKind } from './kube-resources.js';
import type { KubeStore } from './kube-store.js';
import type { KubeObject, Pod } from './kube.types.js';

/**
 * The endpoints and endpointslice controllers: for each Service with a selector, the Endpoints object of the
 * same name and one EndpointSlice (`<service>-<5 chars>`, label kubernetes.io/service-name, owned by the Service)
 * listing the matching pods that have an IP, with ready/serving/terminating conditions and the target ports
 * resolved against each pod (named ports included). A Service without a selector is left alone, as in a cluster.
 */

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
}

const SERVICE_NAME = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

export class EndpointsController {
  private readonly serviceType = resourceForKind('Service');
  private readonly podType = resourceForKind('Pod');
  private readonly endpointsType = resourceForKind('Endpoints');
  private readonly sliceType = resourceForKind('EndpointSlice');

  constructor(private readonly store: KubeStore) {}

  /** Keys (`ns/name`) of the Services selecting a pod with these labels. */
  servicesFor(namespace: string | undefined, labels: (Record<string, string> | undefined)[]): string[] {
    const out: string[] = [];
    for (const svc of this.store.scan(this.serviceType, namespace)) {
      const selector = (svc.spec as ServiceSpec | undefined)?.selector;
      if (!selector || !Object.keys(selector).length) continue;
      if (labels.some((l) => l && Object.entries(selector).every(([k, v]) => l[k] === v))) out.push(`${namespace}/${svc.metadata.name}`);
    }
    return out;
  }

  reconcile(key: string): void {
    const [namespace, name] = key.split('/');
    const service = this.store.get(this.serviceType, namespace, name);
    if (!service && this.store.get(this.endpointsType, namespace, name)) {
      // The endpoints controller removes a deleted Service's Endpoints; its slices go with their owner (GC).
      this.store.remove(this.endpointsType, namespace, name);
      return;
    }
    const selector = (service?.spec as ServiceSpec | undefined)?.selector;
    if (!service || service.metadata.deletionTimestamp || !selector || !Object.keys(selector).length) return;
    const ports = (service.spec as ServiceSpec).ports ?? [];
    const pods: Pod[] = [];
    for (const p of this.store.scan(this.podType, namespace)) {
      const pod = p as Pod;
      if (pod.status?.podIP && Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v) && pod.status.phase !== 'Succeeded' && pod.status.phase !== 'Failed') pods.push(pod);
    }
    pods.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    this.writeEndpoints(service, pods, ports);
    this.writeSlice(service, pods, ports);
  }

  private resolvePort(pod: Pod | undefined, port: ServicePort): number {
    const target = port.targetPort ?? port.port;
    if (typeof target === 'number') return target;
    if (/^\d+$/.test(target)) return Number(target);
    for (const c of pod?.spec.containers ?? []) {
      const found = c.ports?.find((p) => p.name === target);
      if (found) return found.containerPort;
    }
    return port.port;
  }

  private owner(service: KubeObject) {
    return [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name ?? '', uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }];
  }

  private writeEndpoints(service: KubeObject, pods: Pod[], ports: ServicePort[]): void {
    const address = (p: Pod) => ({ ip: p.status?.podIP ?? '', nodeName: p.spec.nodeName, targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid } });
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const ready = live.filter(isPodReady).map(address);
    const notReady = live.filter((p) => !isPodReady(p)).map(address);
    const subsets = live.length ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports: ports.map((port) => ({ ...(port.name ? { name: port.name } : {}), port: this.resolvePort(live[0], port), protocol: port.protocol ?? 'TCP' })) }] : [];
    const metadata = { name: service.metadata.name, namespace: service.metadata.namespace, labels: { ...service.metadata.labels } };
    const body = { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets } as KubeObject;
    const current = this.store.get(this.endpointsType, service.metadata.namespace, service.metadata.name ?? '');
    if (!current) this.store.create(this.endpointsType, body);
    else this.store.update(this.endpointsType, { ...current, subsets, metadata: { ...current.metadata, labels: metadata.labels, resourceVersion: undefined } });
  }

  private writeSlice(service: KubeObject, pods: Pod[], ports: ServicePort[]): void {
    const endpoints = pods.map((p) => {
      const terminating = !!p.metadata.deletionTimestamp;
      const ready = isPodReady(p);
      return {
        addresses: [p.status?.podIP ?? ''],
        conditions: { ready: ready && !terminating, serving: ready, terminating },
        nodeName: p.spec.nodeName,
        targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
      };
    });
    const slicePorts = ports.map((port) => ({ name: port.name ?? '', port: this.resolvePort(pods[0], port), protocol: port.protocol ?? 'TCP' }));
    const labels = { ...service.metadata.labels, [SERVICE_NAME]: service.metadata.name ?? '', [MANAGED_BY]: 'endpointslice-controller.k8s.io' };
    let current: KubeObject | undefined;
    for (const slice of this.store.scan(this.sliceType, service.metadata.namespace)) {
      if (slice.metadata.labels?.[SERVICE_NAME] === service.metadata.name && slice.metadata.ownerReferences?.some((r) => r.uid === service.metadata.uid)) current = structuredClone(slice);
    }
    if (!current) {
      this.store.create(this.sliceType, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${service.metadata.name}-${randomSuffix()}`, generateName: `${service.metadata.name}-`, namespace: service.metadata.namespace, labels, ownerReferences: this.owner(service) },
        addressType: 'IPv4',
        endpoints,
        ports: slicePorts,
      });
    } else {
      this.store.update(this.sliceType, { ...current, endpoints, ports: slicePorts, metadata: { ...current.metadata, labels, resourceVersion: undefined } });
    }
  }
}
