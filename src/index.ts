// The public exports, nothing else (SPEC.md §2).
export { lockdown } from './lockdown/lockdown';
export { guard } from './lockdown/guard';
export type { Guard } from './lockdown/guard';
export { status, has } from './lockdown/status';
export type { LockdownReport } from './lockdown/status';
export { PolicyViolation } from './errors';
export type { Permission, Layer, PolicyError } from './errors';
export type { Policy, NormalizedPolicy, NetRule, NetPolicy, FsPolicy } from './policy/types';
export { VIOLATION_CHANNEL } from './guards/deny';
