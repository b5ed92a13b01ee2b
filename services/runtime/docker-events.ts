// The Docker event stream, reduced to the container events the reconcilers act on.
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { LABEL_MANAGED, type EventStreamHandle, type RuntimeEvent, type RuntimeEventAction } from './types.js';

const ACTIONS: readonly RuntimeEventAction[] = ['die', 'oom', 'stop', 'start', 'destroy'];

/** Docker mixes these into Actor.Attributes beside the container's labels. */
const NON_LABEL_ATTRIBUTES = new Set(['name', 'image', 'exitCode', 'signal', 'execDuration']);

export const EVENT_FILTERS = {
  type: ['container'],
  label: [`${LABEL_MANAGED}=true`],
  event: [...ACTIONS],
};

/**
 * Splits a byte stream into lines. Chunks arrive cut anywhere, even inside a multi-byte character,
 * so the decoder and the unfinished tail are carried between chunks.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';

  push(chunk: Buffer | string): string[] {
    const text = this.tail + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }
}

/** One event line as Docker writes it, or null for anything else (malformed, other types/actions). */
export function parseEventLine(line: string): RuntimeEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object') return null;
  const e = raw as {
    Type?: unknown;
    Action?: unknown;
    status?: unknown;
    id?: unknown;
    Actor?: { ID?: unknown; Attributes?: Record<string, unknown> };
  };
  const type = e.Type ?? 'container';
  const action = typeof e.Action === 'string' ? e.Action : e.status;
  if (type !== 'container' || !ACTIONS.includes(action as RuntimeEventAction)) return null;
  const containerId = typeof e.Actor?.ID === 'string' ? e.Actor.ID : typeof e.id === 'string' ? e.id : '';
  if (!containerId) return null;

  const attributes = e.Actor?.Attributes ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (!NON_LABEL_ATTRIBUTES.has(k) && typeof v === 'string') labels[k] = v;
  }
  const event: RuntimeEvent = {
    action: action as RuntimeEventAction,
    containerId,
    name: typeof attributes.name === 'string' ? attributes.name.replace(/^\//, '') : '',
    labels,
  };
  const exitCode = Number(attributes.exitCode);
  if (attributes.exitCode !== undefined && Number.isInteger(exitCode)) event.exitCode = exitCode;
  return event;
}

type Warn = (obj: object, msg?: string) => void;

/**
 * Opens the filtered event stream. Connection failures reject (the caller maps them); once open,
 * onError fires exactly once when the stream ends or breaks, and never after close().
 */
export async function openEventStream(
  docker: Docker,
  onEvent: (e: RuntimeEvent) => void,
  onError: (err: Error) => void,
  warn: Warn,
): Promise<EventStreamHandle> {
  // Passed pre-serialised: docker-modem sends a string filter as is.
  const stream = (await docker.getEvents({ filters: JSON.stringify(EVENT_FILTERS) })) as NodeJS.ReadableStream & {
    destroy(err?: Error): void;
  };
  const splitter = new LineSplitter();
  let finished = false;

  const finish = (err: Error) => {
    if (finished) return;
    finished = true;
    stream.destroy();
    onError(err);
  };

  stream.on('data', (chunk: Buffer | string) => {
    if (finished) return;
    for (const line of splitter.push(chunk)) {
      const event = parseEventLine(line);
      if (!event) continue;
      // A throwing handler must not take the stream down with it.
      try {
        onEvent(event);
      } catch (err) {
        warn({ err, event }, 'runtime event handler threw');
      }
    }
  });
  stream.on('end', () => finish(new Error('docker event stream ended')));
  stream.on('close', () => finish(new Error('docker event stream closed')));
  stream.on('error', (err: Error) => finish(err));

  return {
    close() {
      if (finished) return;
      finished = true;
      stream.destroy();
    },
  };
}
