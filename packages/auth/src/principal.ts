import { errors } from '@remotegpu/core';

/** Who is calling, from a verified token (DESIGN §5). */
export interface Principal {
  sub: string;
  workspaces: readonly number[];
  admin: boolean;
}

/** A principal as a verifier returns it: with the moment its token stops being valid (DESIGN §5: `exp` is required). */
export interface VerifiedPrincipal extends Principal {
  /** The token's `exp`, in epoch milliseconds. */
  expiresAt: number;
}

export function canActIn(principal: Principal, workspaceId: number): boolean {
  return principal.admin || principal.workspaces.includes(workspaceId);
}

export function visibleWorkspaces(principal: Principal): readonly number[] | 'all' {
  return principal.admin ? 'all' : principal.workspaces;
}

/** Creating in a workspace the token does not hold is 403: the caller named it, so nothing leaks. */
export function assertCanActIn(principal: Principal, workspaceId: number): void {
  if (!canActIn(principal, workspaceId)) throw errors.forbiddenWorkspace(workspaceId);
}
