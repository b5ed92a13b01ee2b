// Byte formats the Docker API speaks: tar archives for putArchive, and the multiplexed log stream.
import tar from 'tar-stream';

/**
 * A one-file tar archive. uid/gid 0 and the given mode are what the file ends up with inside the
 * container: the daemon keeps the archive's ownership and permissions when it extracts.
 */
export async function singleFileTar(fileName: string, content: string | Buffer, mode: number): Promise<Buffer> {
  if (!fileName || fileName.includes('/') || fileName === '.' || fileName === '..') {
    throw new Error(`writeFile: "${fileName}" is not a plain file name`);
  }
  const pack = tar.pack();
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  pack.entry({ name: fileName, mode, uid: 0, gid: 0, mtime: new Date(), type: 'file' }, body);
  pack.finalize();
  return done;
}

const STREAM_STDIN = 0;
const STREAM_STDERR = 2;
/** Swarm's service logs add a fourth stream: errors of the manager gathering them (a node away). */
export const STREAM_SYSTEM_ERROR = 3;
const HEADER_BYTES = 8;

export interface LogFrame {
  /** 0 stdin, 1 stdout, 2 stderr, 3 (service logs only) the manager's own error; -1 = unframed bytes. */
  stream: number;
  data: Buffer;
}

/**
 * Splits Docker's multiplexed log stream (non-TTY containers: frames of an 8-byte header
 * [stream, 0, 0, 0, size uint32 BE] then payload) into its frames, in the order written. Anything
 * that does not look like a frame (a TTY container's raw output) is one unframed part.
 */
export function splitLogFrames(buf: Buffer, maxStream = STREAM_STDERR): LogFrame[] {
  const frames: LogFrame[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (!isFrameHeader(buf, offset, maxStream)) {
      frames.push({ stream: -1, data: buf.subarray(offset) });
      break;
    }
    const size = buf.readUInt32BE(offset + 4);
    const start = offset + HEADER_BYTES;
    frames.push({ stream: buf[offset]!, data: buf.subarray(start, Math.min(start + size, buf.length)) });
    offset = start + size;
  }
  return frames;
}

/** The log stream as plain text, stdout and stderr interleaved in the order written. */
export function demuxDockerStream(buf: Buffer): string {
  return Buffer.concat(splitLogFrames(buf).map((f) => f.data)).toString('utf8');
}

function isFrameHeader(buf: Buffer, offset: number, maxStream: number): boolean {
  if (buf.length - offset < HEADER_BYTES) return false;
  const stream = buf[offset]!;
  return stream >= STREAM_STDIN && stream <= maxStream && buf[offset + 1] === 0 && buf[offset + 2] === 0 && buf[offset + 3] === 0;
}

/** dockerode hands non-streamed bodies back parsed as JSON when they happen to parse. */
export function asBuffer(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body) ?? '', 'utf8');
}
