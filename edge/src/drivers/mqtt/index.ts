export * from './driver.ts';
export * from './topics.ts';
