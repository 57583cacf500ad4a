export * from './types';
export * from './capabilities';
export * from './netrules';
export * from './paths';
export * from './validate';
export * from './normalize';
export * from './intersect';
