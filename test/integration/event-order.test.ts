// Event ids must follow commit order (DESIGN.md): a reader that has seen id N never later finds a
// committed id below N. appendEvents takes an advisory lock so a transaction holding a lower id
// commits before a later one can even take its id. Plain bigserial inserts (no lock) let a higher
// id commit first, and a reader polling `id > lastSeen` then skips the lower id for ever: the second
// test shows that on a PostgreSQL server, so the first one could fail.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents } from '../../services/events/log.js';
import type { Tx } from '../../services/db/client.js';
import { dbMode } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Insert = (tx: Tx, workspaceId: string) => Promise<bigint>;

const withLock: Insert = async (tx, workspaceId) => (await appendEvents(tx, [{ workspaceId, type: 'ORDER_TEST' }]))[0]!.id;
const plainInsert: Insert = async (tx, workspaceId) => {
  const rows = await tx.sql.$queryRaw<{ id: bigint }[]>`
    /* insertEventWithoutLock */
    INSERT INTO workspace_events (workspace_id, type) VALUES (${workspaceId}::uuid, 'ORDER_TEST') RETURNING id`;
  return BigInt(rows[0]!.id);
};

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('event ids follow commit order', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** The ids (of this run's workspace) a poller sees with `id > lastSeen`, in the order it saw them. */
  async function poll(workspaceId: string, lastSeen: bigint): Promise<bigint[]> {
    const rows = await s.db.pool.query('SELECT id FROM workspace_events WHERE workspace_id = $1 AND id > $2 ORDER BY id', [workspaceId, lastSeen.toString()]);
    return rows.rows.map((r) => BigInt(r.id));
  }

  /**
   * T1 takes an id and waits; T2 then takes its id and commits; a reader polls in between; T1 commits.
   * Returns the ids in the order the reader saw them, and both transactions' ids.
   */
  async function overlap(insert: Insert) {
    const workspaceId = randomUUID();
    const t1HasId = deferred();
    const releaseT1 = deferred();
    let t1Id = 0n;
    const t1 = s.db.tx(async (tx) => {
      t1Id = await insert(tx, workspaceId);
      t1HasId.resolve();
      await releaseT1.promise;
    });
    await t1HasId.promise;
    let t2Committed = false;
    const t2 = s.db.tx((tx) => insert(tx, workspaceId)).then((id) => {
      t2Committed = true;
      return id;
    });
    const seen: bigint[] = [];
    let lastSeen = 0n;
    if (dbMode() === 'server') {
      // Give T2 time to commit if nothing holds it back, and read as a subscriber would.
      await new Promise((r) => setTimeout(r, 300));
      for (const id of await poll(workspaceId, lastSeen)) seen.push((lastSeen = id));
    } else {
      // PGlite's socket serialises transactions: T2 cannot begin (and no reader can run) while T1 is open.
      await new Promise((r) => setTimeout(r, 300));
      expect(t2Committed).toBe(false);
    }
    releaseT1.resolve();
    await t1;
    const t2Id = await t2;
    for (const id of await poll(workspaceId, lastSeen)) seen.push((lastSeen = id));
    return { seen, t1Id, t2Id };
  }

  it('with appendEvents, the later transaction waits and a polling reader sees every id, in order', async () => {
    for (let i = 0; i < 3; i++) {
      const { seen, t1Id, t2Id } = await overlap(withLock);
      expect(t2Id).toBeGreaterThan(t1Id);
      expect(seen).toEqual([t1Id, t2Id]);
    }
  });

  it('without the lock (plain bigserial inserts), a polling reader skips the lower id on a server', async () => {
    const { seen, t1Id, t2Id } = await overlap(plainInsert);
    if (dbMode() === 'server') {
      // T2 (higher id) committed while T1 still held the lower one: the reader moved past it.
      expect(t2Id).toBeGreaterThan(t1Id);
      expect(seen).toEqual([t2Id]);
      const rows = await s.db.pool.query('SELECT count(*)::int AS n FROM workspace_events WHERE id = $1', [t1Id.toString()]);
      expect(rows.rows[0].n).toBe(1); // committed, yet never seen
    } else {
      // Embedded: the socket's transaction serialisation alone keeps the order.
      expect(t2Id).toBeGreaterThan(t1Id);
      expect(seen).toEqual([t1Id, t2Id]);
    }
  });
});
