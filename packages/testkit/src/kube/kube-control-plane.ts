import { DeploymentController, type DeploymentControllerOptions } from './deployment.controller.js';
import { EndpointsController } from './endpoints.controller.js';
import type { KubeApi } from './kube-api.js';
import { EventRecorder } from './kube-events.js';
import { controllerOf } from './kube-pods.js';
import { resourceForKind } from './kube-resources.js';
import type { StoreChange } from './kube-store.js';
import { WorkQueue } from './kube-workqueue.js';
import { Kubelet, type FailureRule, type KubeletTiming, type RunPod } from './kubelet.js';
import { ReplicaSetController } from './replicaset.controller.js';
import { Scheduler } from './scheduler.js';
import type { KubeObject, Pod, ReplicaSet } from './kube.types.js';

/**
 * kube-controller-manager, kube-scheduler and the kubelets in one: store changes wake work queues (never the
 * writer's own call stack), each controller reconciles from what the store holds, as a level-triggered loop.
 */

export interface ControlPlaneOptions extends DeploymentControllerOptions {
  timing: KubeletTiming;
  failures: FailureRule[];
  runPods?: RunPod;
  onError?: (error: unknown) => void;
}

export class ControlPlane {
  readonly events: EventRecorder;
  readonly kubelet: Kubelet;
  private readonly deployments: WorkQueue;
  private readonly replicaSets: WorkQueue;
  private readonly scheduling: WorkQueue;
  private readonly endpoints: WorkQueue;
  private readonly endpointsController: EndpointsController;
  private readonly unsubscribe: () => void;
  private readonly rsType = resourceForKind('ReplicaSet');
  private readonly podType = resourceForKind('Pod');

  constructor(
    private readonly api: KubeApi,
    options: ControlPlaneOptions,
  ) {
    const onError = (_key: string, error: unknown) => options.onError?.(error);
    this.events = new EventRecorder(api.store);
    const deploymentController = new DeploymentController(api, this.events, (key, ms) => this.deployments.addAfter(key, ms), options);
    const rsController = new ReplicaSetController(api, this.events, (key, ms) => this.replicaSets.addAfter(key, ms));
    const scheduler = new Scheduler(api.store, this.events);
    this.kubelet = new Kubelet(api.store, this.events, options.timing, options.failures, options.runPods);
    this.deployments = new WorkQueue((key) => deploymentController.reconcile(key), onError);
    this.replicaSets = new WorkQueue((key) => rsController.reconcile(key), onError);
    this.scheduling = new WorkQueue(() => scheduler.schedulePending(), onError);
    this.endpointsController = new EndpointsController(api.store);
    this.endpoints = new WorkQueue((key) => this.endpointsController.reconcile(key), onError);
    this.unsubscribe = api.store.onChange((change) => this.route(change));
  }

  private route(change: StoreChange): void {
    const { object } = change;
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    switch (change.resource.kind) {
      case 'Deployment':
        this.deployments.add(key);
        break;
      case 'ReplicaSet': {
        this.replicaSets.add(key);
        this.ownerDeployment(object);
        break;
      }
      case 'Pod': {
        const pod = object as Pod;
        const owner = controllerOf(pod);
        if (owner?.kind === 'ReplicaSet') {
          this.replicaSets.add(`${pod.metadata.namespace}/${owner.name}`);
          const rs = this.api.store.get(this.rsType, pod.metadata.namespace, owner.name) as ReplicaSet | undefined;
          if (rs) this.ownerDeployment(rs);
        }
        for (const key of this.endpointsController.servicesFor(pod.metadata.namespace, [pod.metadata.labels, change.previous?.metadata.labels])) this.endpoints.add(key);
        const freed = change.type === 'DELETED' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
        if (!pod.spec.nodeName || freed) this.scheduling.add('all');
        this.kubelet.observe(pod, change.type === 'DELETED');
        break;
      }
      case 'Service':
        this.endpoints.add(key);
        break;
      case 'Node':
        this.scheduling.add('all');
        if (change.type === 'DELETED') this.evictPodsOf(object.metadata.name ?? '');
        break;
      default:
        break;
    }
  }

  private ownerDeployment(rs: KubeObject): void {
    const owner = controllerOf(rs);
    if (owner?.kind === 'Deployment') this.deployments.add(`${rs.metadata.namespace}/${owner.name}`);
  }

  /** The pod GC: pods bound to a node that no longer exists are deleted (their ReplicaSet replaces them). */
  private evictPodsOf(node: string): void {
    setImmediate(() => {
      for (const pod of this.api.store.list(this.podType).items as Pod[]) {
        if (pod.spec.nodeName !== node) continue;
        try {
          this.api.store.remove(this.podType, pod.metadata.namespace, pod.metadata.name ?? '');
        } catch {
          // already gone
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    this.deployments.stop();
    this.replicaSets.stop();
    this.scheduling.stop();
    this.endpoints.stop();
    await this.kubelet.stopAll();
  }
}
