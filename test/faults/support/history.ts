// The exact history a workspace must show after a restart storm (vitest assertions; workload.ts stays
// free of them so the benchmark can share it).
import { expect } from 'vitest';
import { historyOf, type Sql } from './convergence.js';

/**
 * The exact status history a workspace must show after `cursor`: derived from its restart requests,
 * each of which records the status it found. A restart from ONLINE writes PROVISIONING, one from
 * PROVISIONING writes none; a status between two restarts was written in between; and `tail` follows
 * the last restart (['ONLINE'] when the workspace simply came up again; nothing without a restart).
 */
export async function expectRestartHistory(sql: Sql, id: string, cursor: string, restarts: number, tail: string[] = restarts > 0 ? ['ONLINE'] : []): Promise<void> {
  const events = await historyOf(sql, id, cursor);
  const requested = events.filter((e) => e.type === 'WORKSPACE_RESTART_REQUESTED');
  expect(requested, `${id}: restart requests`).toHaveLength(restarts);
  const expected: string[] = [];
  let current = 'ONLINE';
  for (const r of requested) {
    const found = String(r.payload.previousStatus);
    if (found !== current) expected.push(found);
    if (found !== 'PROVISIONING') expected.push('PROVISIONING');
    current = 'PROVISIONING';
  }
  expected.push(...tail);
  const statuses = events.filter((e) => e.status !== null).map((e) => e.status);
  expect(statuses, `${id}: status history`).toEqual(expected);
  const other = events.filter((e) => !['WORKSPACE_RESTART_REQUESTED', 'TOKEN_ISSUED', 'TOKEN_REVOKED'].includes(e.type) && e.status === null);
  expect(other, `${id}: events other than restarts, tokens and statuses`).toEqual([]);
}
