export * from './types.ts';
export * from './database.ts';
export * from './sqlite-outbox.ts';
