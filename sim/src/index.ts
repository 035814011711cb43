export * from './smoke-detector.ts';
export * from './control.ts';
export * from './pty.ts';
export * from './modbus/index.ts';
export * from './serial/device.ts';
