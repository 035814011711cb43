export * from './address.ts';
export * from './client.ts';
export * from './driver.ts';
export * from './frames.ts';
export * from './plan.ts';
export * from './scheduler.ts';
export * from './schema.ts';
export * from './descriptor.ts';
