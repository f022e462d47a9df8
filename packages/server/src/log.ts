import { pino, type Logger } from 'pino';

/** JSON log lines on stderr, so stdout keeps the human-facing lines (`listening on …`). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'roomcast' } }, pino.destination(2));
}
