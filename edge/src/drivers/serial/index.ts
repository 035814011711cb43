export * from './address.ts';
export * from './connection.ts';
export * from './driver.ts';
export * from './framer.ts';
export * from './schema.ts';
export * from './descriptor.ts';
