export * from './plan';
export * from './defaults';
export * from './landlock/plan';
export * from './landlock/rights';
export * from './seccomp/rules';
export * from './seccomp/codegen';
