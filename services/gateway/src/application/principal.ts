// Principals and workspace checks are shared with the router: they live in @remotegpu/auth.
export { assertCanActIn, canActIn, visibleWorkspaces, type Principal } from '@remotegpu/auth';
