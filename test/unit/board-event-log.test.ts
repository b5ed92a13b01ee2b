// The board's record of applied status events: ids compared as 64-bit numbers, replays of applied
// events recognised, and what newer events decided handed back for a read from an older snapshot.
import { describe, expect, it } from 'vitest';
import { createEventLog, type DecidedStatus } from '../../web/src/api/event-log.ts';
import { compareEventIds, maxEventId } from '../../web/src/lib/ids.ts';

const decided = (id: string, status: DecidedStatus['status']): DecidedStatus => ({ __typename: 'Workspace', id, status, allowedActions: [] });

describe('board event ids and log', () => {
  it('compares decimal ids as numbers, beyond 2^53', () => {
    expect(compareEventIds('9', '10')).toBeLessThan(0);
    expect(compareEventIds('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(compareEventIds('42', '42')).toBe(0);
    expect(maxEventId(null, '7')).toBe('7');
    expect(maxEventId('100', '99')).toBe('100');
  });

  it('applies each event once, resumes after the newest, and answers what happened after a cursor', () => {
    const log = createEventLog();
    log.startAfter('10');
    expect(log.record('9', decided('a', 'ONLINE'))).toBe(false); // older than the cursor: already in the state read after it
    expect(log.record('11', decided('a', 'DEGRADED'))).toBe(true);
    expect(log.record('12', decided('b', 'PAUSED'))).toBe(true);
    expect(log.record('11', decided('a', 'DEGRADED'))).toBe(false); // a replay after a reconnection
    expect(log.newest()).toBe('12');
    expect(log.record('15', decided('a', 'ONLINE'))).toBe(true); // ids may skip numbers

    expect(log.since('11').map((d) => `${d.id}:${d.status}`)).toEqual(['b:PAUSED', 'a:ONLINE']);
    expect(log.since('10', 'a').map((d) => d.status)).toEqual(['DEGRADED', 'ONLINE']);
    expect(log.since('15')).toEqual([]);

    log.startAfter('20'); // EVENTS_EXPIRED: state read again behind a new cursor
    expect(log.since('0')).toEqual([]);
    expect(log.record('20', decided('a', 'FAILED'))).toBe(false);
  });
});
