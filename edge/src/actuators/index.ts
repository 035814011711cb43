export * from './actuators.ts';
