// A pino logger whose messages a test can read: the server's own words (a warning it must give, work
// a fault really hit) are part of what some tests assert.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface CapturedLog {
  logger: Logger;
  /** The `msg` of every line at `level` and above, in order. */
  messages: string[];
}

export function captureLog(level = 'warn'): CapturedLog {
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
        } catch {
          // not a log line
        }
      }
      done();
    },
  });
  return { logger: pino({ level }, sink), messages };
}
