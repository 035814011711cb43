export * from './device.ts';
export * from './tcp-server.ts';
export * from './rtu-line.ts';
