export * from './schema.ts';
export * from './vectors.ts';
export * from './load.ts';
export * from './layout.ts';
