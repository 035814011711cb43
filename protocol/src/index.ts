export * from './messages.ts';
export * from './topics.ts';
export * from './validate.ts';
export * from './crypto.ts';
export * from './mqtt-limits.ts';
export * from './backoff.ts';
