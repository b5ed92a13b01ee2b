// Following a container's output through the Docker Engine API (GET /containers/:id/logs?follow=1).
// The body is Docker's multiplexed stream for a container without a TTY (frames of an 8-byte header
// [stream, 0, 0, 0, size uint32 BE] and the payload) and the raw output for one with a TTY; frames and
// lines arrive cut anywhere, so both are reassembled here. With timestamps=1 every line starts with its
// RFC 3339 time and a space. Docker ends the body when the container stops.
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { statusOf } from './docker-connection.js';
import type { LogFollower, LogLine, LogStreamName } from './types.js';

const HEADER_BYTES = 8;
/** A line longer than this (output with no line break) is handed on in pieces of this size. */
const MAX_LINE_CHARS = 64 * 1024;
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Splits one stream's bytes into lines, keeping empty lines (they are output too). */
class Lines {
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';

  constructor(private readonly emit: (text: string) => void) {}

  push(chunk: Buffer): void {
    const parts = (this.tail + this.decoder.write(chunk)).split('\n');
    this.tail = parts.pop() ?? '';
    for (const line of parts) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    while (this.tail.length > MAX_LINE_CHARS) {
      this.emit(this.tail.slice(0, MAX_LINE_CHARS));
      this.tail = this.tail.slice(MAX_LINE_CHARS);
    }
  }

  /** What is left when the output ends: a last line written without a line break. */
  flush(): void {
    const rest = this.tail + this.decoder.end();
    this.tail = '';
    if (rest !== '') this.emit(rest);
  }
}

function toLine(stream: LogStreamName, raw: string): LogLine {
  const m = TIMESTAMP.exec(raw);
  if (!m) return { stream, text: raw, timestamp: null };
  const at = new Date(m[1]!);
  return { stream, text: raw.slice(m[0].length), timestamp: Number.isNaN(at.getTime()) ? null : at };
}

function looksFramed(buf: Buffer): boolean {
  return buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
}

/** Demultiplexes Docker's framed stream; raw once the first bytes show there are no frames (TTY). */
class Frames {
  private pending: Buffer = Buffer.alloc(0);
  /** null until the first eight bytes have been seen. */
  private raw: boolean | null = null;

  constructor(private readonly out: Record<LogStreamName, Lines>) {}

  push(chunk: Buffer): void {
    if (this.raw === true) return this.out.stdout.push(chunk);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      if (!looksFramed(this.pending)) {
        // A TTY container's raw output (or, mid-stream, bytes that are not a frame): text from here on.
        this.raw = true;
        this.out.stdout.push(this.pending);
        this.pending = Buffer.alloc(0);
        return;
      }
      this.raw = false;
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) return;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      (this.pending[0] === 2 ? this.out.stderr : this.out.stdout).push(payload);
      this.pending = this.pending.subarray(HEADER_BYTES + size);
    }
  }

  end(): void {
    // Fewer than eight bytes of raw output, never told apart from a frame header: they are text.
    if (this.raw === null && this.pending.length > 0) this.out.stdout.push(this.pending);
    this.pending = Buffer.alloc(0);
    this.out.stdout.flush();
    this.out.stderr.flush();
  }
}

export async function followContainerLogs(
  docker: Docker,
  idOrName: string,
  tail: number,
  onLine: (line: LogLine) => void,
  onEnd: (err?: Error) => void,
): Promise<LogFollower | null> {
  let body: NodeJS.ReadableStream & { destroy(err?: Error): void };
  try {
    body = (await docker.getContainer(idOrName).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      tail: Math.max(0, Math.floor(tail)),
    })) as unknown as typeof body;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
  let finished = false;
  const emit = (stream: LogStreamName) => (text: string) => {
    if (!finished) onLine(toLine(stream, text));
  };
  const frames = new Frames({ stdout: new Lines(emit('stdout')), stderr: new Lines(emit('stderr')) });
  const finish = (err?: Error) => {
    if (finished) return;
    frames.end();
    finished = true;
    body.destroy();
    onEnd(err);
  };
  body.on('data', (chunk: Buffer | string) => {
    if (!finished) frames.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  });
  body.on('end', () => finish());
  body.on('close', () => finish());
  body.on('error', (err: Error) => finish(err));
  return {
    close() {
      if (finished) return;
      finished = true;
      body.destroy();
    },
  };
}
