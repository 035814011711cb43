export * from './messages.ts';
export * from './topics.ts';
export * from './validate.ts';
