export { startFakeKubeApiServer } from './fake-kube-apiserver.js';
export type { FakeKubeApiServer, FakeKubeOptions } from './fake-kube-apiserver.js';
export type { FakeNodeSpec } from './kube-nodes.js';
export type { FailureRule, PodFailure, RunPod, RunningPod, KubeletTiming } from './kubelet.js';
export type { InjectedFailure, RequestRecord } from './kube-http.server.js';
export type { StatusBody } from './kube-status.js';
export type { KubeObject, Pod, Deployment, ReplicaSet, Node, CoreEvent } from './kube.types.js';
