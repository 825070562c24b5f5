/** What a list filter says about workspaces, whichever repository lists. */
export interface WorkspaceScope {
  visibleWorkspaces: readonly number[] | 'all';
  workspaceId?: number;
}

/**
 * The `workspaceId` condition of a Mongo list query, or null when the caller can see nothing that matches (no
 * visible workspace, or one it asked for that it cannot see): the list is then empty without a query.
 */
export function workspaceCondition(scope: WorkspaceScope): { workspaceId?: unknown } | null {
  if (scope.visibleWorkspaces === 'all') return scope.workspaceId === undefined ? {} : { workspaceId: scope.workspaceId };
  if (scope.visibleWorkspaces.length === 0) return null;
  if (scope.workspaceId !== undefined && !scope.visibleWorkspaces.includes(scope.workspaceId)) return null;
  return { workspaceId: scope.workspaceId ?? { $in: [...scope.visibleWorkspaces] } };
}
