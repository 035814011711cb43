export * from './engine.ts';
export * from './store.ts';
export * from './overrides.ts';
