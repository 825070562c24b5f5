import { labelSelectorString } from './kube-selectors.js';
import { isRecord, type KubeObject, type LabelSelectorSpec } from './kube.types.js';

/** The `autoscaling/v1` Scale view of a Deployment or ReplicaSet (what `kubectl scale` reads and writes). */
export function scaleOf(object: KubeObject): object {
  const spec = isRecord(object.spec) ? object.spec : {};
  const status = isRecord(object.status) ? object.status : {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: labelSelectorString(spec.selector as LabelSelectorSpec | undefined) },
  };
}
