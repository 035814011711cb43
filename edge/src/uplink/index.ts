export * from './uplink.ts';
