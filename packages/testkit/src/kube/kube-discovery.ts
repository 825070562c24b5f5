import { apiVersionOf, groupVersions, RESOURCES, type ResourceType } from './kube-resources.js';

/**
 * Legacy (unaggregated) discovery documents, as a 1.32 server answers them to a client that does not ask for
 * the aggregated form: kubectl falls back to these when /api and /apis answer plain application/json.
 */

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T00:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function coreVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(): object {
  const groups = groupVersions()
    .filter((gv) => gv.group !== '')
    .map((gv) => {
      const groupVersion = `${gv.group}/${gv.version}`;
      return { name: gv.group, versions: [{ groupVersion, version: gv.version }], preferredVersion: { groupVersion, version: gv.version } };
    });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(group: string): object | undefined {
  const gv = groupVersions().find((g) => g.group === group);
  if (!gv) return undefined;
  const groupVersion = `${gv.group}/${gv.version}`;
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [{ groupVersion, version: gv.version }], preferredVersion: { groupVersion, version: gv.version } };
}

function subresourceEntries(r: ResourceType): object[] {
  return r.subresources.map((sub) => {
    switch (sub) {
      case 'status':
        return { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] };
      case 'scale':
        return { name: `${r.plural}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
      case 'log':
        return { name: `${r.plural}/log`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get'] };
      case 'binding':
        return { name: `${r.plural}/binding`, singularName: '', namespaced: r.namespaced, kind: 'Binding', verbs: ['create'] };
      case 'eviction':
        return { name: `${r.plural}/eviction`, singularName: '', namespaced: r.namespaced, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    }
  });
}

export function apiResourceList(group: string, version: string): object | undefined {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!resources.length) return undefined;
  const entries = resources.flatMap((r) => {
    const entry: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames) entry.shortNames = r.shortNames;
    if (r.categories) entry.categories = r.categories;
    entry.storageVersionHash = Buffer.from(`${apiVersionOf(r)}/${r.kind}`).toString('base64').slice(0, 11);
    return [entry, ...subresourceEntries(r)];
  });
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: entries };
}
