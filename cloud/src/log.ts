// One pino logger per cloud instance; modules take a child with their component name.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'gridwatch-cloud', level });
}
