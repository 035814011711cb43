export * from './state-rules.ts';
export * from './state-store.ts';
