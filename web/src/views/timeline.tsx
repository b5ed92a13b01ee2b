// The workspace's event timeline: history read page by page (newest first), then live events
// subscribed after the newest one read, so none falls between the two; a lost connection resumes
// after the newest event shown.
import { useClient } from '@urql/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { subscribeResumable } from '../api/live.ts';
import { WorkspaceHistoryDocument, WorkspaceTimelineDocument, type EventFieldsFragment } from '../generated/graphql.ts';
import { formatDate, formatTime } from '../lib/format.ts';
import { compareEventIds, maxEventId } from '../lib/ids.ts';
import { StatusBadge } from '../ui/status-badge.tsx';

/** Enough for a long session; older ones stay one "Load older" away on a reload. */
const KEEP = 2000;

export function Timeline({ workspaceId }: { workspaceId: string }) {
  const client = useClient();
  const [events, setEvents] = useState<EventFieldsFragment[]>([]);
  const [older, setOlder] = useState<{ hasNext: boolean; cursor: string | null }>({ hasNext: false, cursor: null });
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');
  const newest = useRef<string | null>(null);

  const merge = (incoming: readonly EventFieldsFragment[]) =>
    setEvents((current) => {
      const byId = new Map(current.map((e) => [e.id, e]));
      for (const e of incoming) byId.set(e.id, e);
      return [...byId.values()].sort((a, b) => compareEventIds(b.id, a.id)).slice(0, KEEP);
    });

  const loadPage = async (after: string | null) => {
    const r = await client.query(WorkspaceHistoryDocument, { id: workspaceId, after }, { requestPolicy: 'network-only' }).toPromise();
    const conn = r.data?.workspace?.events;
    if (!conn) return false;
    const page = conn.edges.map((e) => e.node);
    merge(page);
    setOlder({ hasNext: conn.pageInfo.hasNextPage, cursor: conn.pageInfo.endCursor ?? null });
    return page;
  };

  useEffect(() => {
    let stop: (() => void) | undefined;
    let alive = true;
    setEvents([]);
    void loadPage(null).then((page) => {
      if (!alive) return;
      if (page === false) return setState('failed');
      setState('ready');
      newest.current = page[0]?.id ?? '0';
      stop = subscribeResumable(client, WorkspaceTimelineDocument, {
        variables: () => ({ workspaceId, afterEventId: newest.current }),
        onData(data) {
          newest.current = maxEventId(newest.current, data.workspaceEvents.id);
          merge([data.workspaceEvents]);
        },
        // Too long away to replay: read the history again and follow from its newest event.
        async onExpired() {
          setEvents([]);
          const again = await loadPage(null);
          if (again === false) throw new Error('history unavailable');
          newest.current = again[0]?.id ?? '0';
        },
      });
    });
    return () => {
      alive = false;
      stop?.();
    };
  }, [workspaceId]);

  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {state === 'loading' && <p class="muted">Loading…</p>}
      {state === 'failed' && <p class="field-error">The history could not be loaded.</p>}
      <ol class="timeline" aria-live="polite" aria-relevant="additions">
        {events.map((e) => (
          <EventItem key={e.id} e={e} />
        ))}
      </ol>
      {older.hasNext && (
        <button type="button" class="secondary" onClick={() => void loadPage(older.cursor)}>
          Load older events
        </button>
      )}
    </section>
  );
}

function humanType(type: string): string {
  const words = type.replace(/^WORKSPACE_/, '').toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function payloadSummary(payload: unknown): string | null {
  if (!payload || typeof payload !== 'object') return null;
  const p = payload as Record<string, unknown>;
  const parts = ['reason', 'message', 'source', 'error'].filter((k) => typeof p[k] === 'string').map((k) => String(p[k]));
  return parts.length ? parts.join(' · ') : null;
}

function EventItem({ e }: { e: EventFieldsFragment }) {
  const summary = payloadSummary(e.payload);
  const hasPayload = e.payload && typeof e.payload === 'object' && Object.keys(e.payload).length > 0;
  return (
    <li class="event" data-event-id={e.id} data-event-type={e.type}>
      <time dateTime={e.createdAt} title={formatDate(e.createdAt)}>
        {formatTime(e.createdAt)}
      </time>
      <div class="event-body">
        {e.status ? (
          <span class="event-line">
            <StatusBadge status={e.status} />
            {e.previousStatus && <span class="muted small">from {e.previousStatus.toLowerCase().replace(/_/g, ' ')}</span>}
          </span>
        ) : (
          <span class="event-line event-type">{humanType(e.type)}</span>
        )}
        {summary && <span class="muted small">{summary}</span>}
        {hasPayload && !summary && (
          <details class="payload">
            <summary>Details</summary>
            <pre>{JSON.stringify(e.payload, null, 2)}</pre>
          </details>
        )}
      </div>
    </li>
  );
}
