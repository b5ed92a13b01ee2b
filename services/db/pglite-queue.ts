// pglite-socket multiplexes every client connection onto PGlite's one backend, and serialises only
// explicit transactions. Outside them it interleaves clients message chunk by message chunk, so one
// client's extended-protocol exchange (Parse, Bind, Execute, … Sync) can be cut by another's, which
// replaces the unnamed statement or portal: "unnamed prepared statement does not exist" / "portal ""
// does not exist" under concurrent load. This keeps a client's turn until its exchange reaches a
// sync point (Sync or a simple Query) and, as before, for the whole of an explicit transaction.
import type { PGlite } from '@electric-sql/pglite';

interface QueueItem {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(err: unknown): void;
  onData(data: Uint8Array): void;
}

interface QueryQueue {
  queue: QueueItem[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** True when the chunk's last frontend message ends an exchange (or the chunk is not typed messages). */
export function endsAtSyncPoint(msg: Uint8Array): boolean {
  let offset = 0;
  let last = -1;
  while (offset + 5 <= msg.length) {
    const len = ((msg[offset + 1]! << 24) | (msg[offset + 2]! << 16) | (msg[offset + 3]! << 8) | msg[offset + 4]!) >>> 0;
    if (len < 4) return true;
    last = msg[offset]!;
    offset += 1 + len;
  }
  // A start-up or SSL request (no type byte) does not parse exactly: never hold the turn for it.
  if (offset !== msg.length) return true;
  return last === SYNC || last === QUERY || last === TERMINATE;
}

export function installProtocolAwareQueue(server: unknown): void {
  const q = (server as { queryQueue: QueryQueue }).queryQueue;
  /** The client whose exchange is under way, if any. */
  let owner: number | null = null;

  q.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const sticky = owner ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const index = sticky === null ? 0 : this.queue.findIndex((i) => i.handlerId === sticky);
        if (index === -1) break; // the turn's owner has not sent its next chunk yet
        const item = this.queue.splice(index, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (d: Uint8Array) => {
                bytes += d.length;
                item.onData(d);
              },
            }),
          );
        } catch (err) {
          owner = null;
          item.reject(err);
          continue;
        }
        owner = endsAtSyncPoint(item.message) ? null : item.handlerId;
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };

  const clear = q.clearTransactionIfNeeded.bind(q);
  q.clearTransactionIfNeeded = async (handlerId: number) => {
    // A client that disconnected mid-exchange must not keep the turn.
    if (owner === handlerId) owner = null;
    await clear(handlerId);
    await q.processQueue();
  };
}
