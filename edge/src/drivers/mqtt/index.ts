export * from './driver.ts';
export * from './topics.ts';
export * from './descriptor.ts';
