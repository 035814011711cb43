export * from './errors.ts';
export * from './schema.ts';
export * from './vectors.ts';
export * from './load.ts';
export * from './layout.ts';
export * from './transports/index.ts';
export * from './alarm-types.ts';
