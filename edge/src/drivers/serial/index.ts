export * from './address.ts';
export * from './connection.ts';
export * from './driver.ts';
export * from './framer.ts';
