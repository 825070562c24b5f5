/**
 * Exactly what the kubernetes runtime asks of the API server (DESIGN §6: "the provisioner's RBAC covers exactly the
 * verbs the adapter uses"). The provisioner's Role in deploy/kubernetes must grant these and nothing more; a test
 * there compares the two, and the adapter's own tests check that every request it makes is on this list.
 *
 * - deployments, services: the informers (list, watch), converging (create, update; get after a conflict), and
 *   delete by the service's label (deletecollection).
 * - secrets: the same, for the per-service Secret holding the short-lived artifact token.
 * - pods: read only (list, watch): the ReplicaSets make and remove them; status comes from them.
 * - pods/log (get): `Runtime.logs()` reads the replicas' output.
 * - nodes (cluster scope, list): `capacity()` sums the GPU nodes' allocatable `nvidia.com/gpu`.
 */
export type RbacVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RbacNeed {
  /** '' is the core group. */
  apiGroup: string;
  resource: string;
  verb: RbacVerb;
  /** `namespace`: a Role in RGPU_K8S_NAMESPACE; `cluster`: a ClusterRole (cluster-scoped resources). */
  scope: 'namespace' | 'cluster';
}

function needs(apiGroup: string, resource: string, scope: RbacNeed['scope'], verbs: RbacVerb[]): RbacNeed[] {
  return verbs.map((verb) => ({ apiGroup, resource, verb, scope }));
}

export const KUBERNETES_RBAC_NEEDS: readonly RbacNeed[] = Object.freeze([
  ...needs('apps', 'deployments', 'namespace', ['get', 'list', 'watch', 'create', 'update', 'deletecollection']),
  ...needs('', 'services', 'namespace', ['get', 'list', 'watch', 'create', 'update', 'deletecollection']),
  ...needs('', 'secrets', 'namespace', ['get', 'list', 'watch', 'create', 'update', 'deletecollection']),
  ...needs('', 'pods', 'namespace', ['list', 'watch']),
  ...needs('', 'pods/log', 'namespace', ['get']),
  ...needs('', 'nodes', 'cluster', ['list']),
]);
