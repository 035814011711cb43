export * from './types.ts';
export * from './database.ts';
export * from './sqlite-outbox.ts';
export * from './telemetry-lane.ts';
export * from './group-commit.ts';
export * from './writer-thread.ts';
export * from './worker-outbox.ts';
