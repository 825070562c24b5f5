import type { Node, Taint } from './kube.types.js';

export interface FakeNodeSpec {
  name: string;
  /** cpu cores (default "8"). */
  cpu?: string | number;
  /** memory quantity (default "32Gi"). */
  memory?: string;
  /** nvidia.com/gpu capacity (default 0: the resource is not advertised at all). */
  gpus?: number;
  /** max pods (default 110). */
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
}

/** A Node object as a kubelet registers it: capacity = allocatable, Ready, an InternalIP. */
export function nodeObject(spec: FakeNodeSpec, index: number): Node {
  const resources: Record<string, string> = {
    cpu: String(spec.cpu ?? '8'),
    memory: spec.memory ?? '32Gi',
    pods: String(spec.pods ?? 110),
    'ephemeral-storage': '100Gi',
  };
  if (spec.gpus) resources['nvidia.com/gpu'] = String(spec.gpus);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...(spec.gpus ? { 'nvidia.com/gpu.present': 'true' } : {}),
        ...spec.labels,
      },
    },
    spec: { podCIDR: `10.244.${index}.0/24`, ...(spec.taints ? { taints: spec.taints } : {}), ...(spec.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: { ...resources },
      allocatable: { ...resources },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      addresses: [
        { type: 'InternalIP', address: `192.168.0.${10 + (index % 240)}` },
        { type: 'Hostname', address: spec.name },
      ],
      nodeInfo: { kubeletVersion: 'v1.32.4', containerRuntimeVersion: 'containerd://1.7.24', operatingSystem: 'linux', architecture: 'amd64', osImage: 'Fake Linux', kernelVersion: '6.1.0', kubeProxyVersion: 'v1.32.4', machineID: '', systemUUID: '', bootID: '' },
    },
  };
}
