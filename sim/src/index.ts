export * from './smoke-detector.ts';
export * from './control.ts';
