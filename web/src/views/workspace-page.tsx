// One workspace: what it is, what it is doing, its actions, and below: the event timeline, the live
// logs, its tokens and its secret keys.
import { useQuery } from '@urql/preact';
import { useEffect } from 'preact/hooks';
import { useLiveRefetch, useSession } from '../context.ts';
import { WorkspaceDetailDocument, type WorkspaceDetailQuery } from '../generated/graphql.ts';
import { duration, formatDate, percent } from '../lib/format.ts';
import { fleetHref, workspaceHref } from '../lib/router.ts';
import { Age } from '../ui/age.tsx';
import { StatusBadge } from '../ui/status-badge.tsx';
import { ActionButtons } from './actions.tsx';
import { LogsPanel } from './logs.tsx';
import { SecretsPanel } from './secrets.tsx';
import { Timeline } from './timeline.tsx';
import { TokensPanel } from './tokens.tsx';

type Detail = NonNullable<WorkspaceDetailQuery['workspace']>;

export function WorkspacePage({ id }: { id: string }) {
  const { canReadLogs, viewer } = useSession();
  const [{ data, error }, reexecute] = useQuery({ query: WorkspaceDetailDocument, variables: { id }, requestPolicy: 'cache-and-network' });
  // The status change itself arrives through the cache; the container and uptime it implies are
  // read again.
  useLiveRefetch(reexecute, 1000, (c) => c.event.workspaceId === id, [id]);

  useEffect(() => {
    if (data?.workspace) document.title = `${data.workspace.name} · Fleet board`;
    return () => void (document.title = 'Fleet board');
  }, [data?.workspace?.name]);

  if (!data) return error ? <p class="field-error" role="alert">This workspace could not be loaded: {error.message}</p> : <p class="loading-page">Loading…</p>;
  const w = data.workspace;
  if (!w) {
    return (
      <div class="card empty-state">
        <h1>No such workspace</h1>
        <p>Nothing has the id {id}. It may have been purged.</p>
        <a href="#/">Back to the fleet</a>
      </div>
    );
  }
  const removed = w.status === 'REMOVED';
  return (
    <article class="workspace-page" data-workspace-id={w.id}>
      {viewer.kind !== 'WORKSPACE' && (
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href="#/">All workspaces</a>
          {w.parent && (
            <>
              <span aria-hidden="true">›</span>
              <a href={workspaceHref(w.parent.id)}>{w.parent.name}</a>
            </>
          )}
        </nav>
      )}
      <header class="page-head">
        <div class="title-block">
          <h1>{w.name}</h1>
          <StatusBadge status={w.status} />
        </div>
        <ActionButtons target={w} onDeleted={() => (location.hash = '#/')} />
      </header>
      {removed && <p class="banner subtle">This workspace was deleted. Its history is kept.</p>}
      {w.lastSampleError && w.status !== 'ONLINE' && (
        <p class="banner warn">
          <strong>Last error:</strong> {w.lastSampleError}
        </p>
      )}
      <div class="page-grid">
        <div class="col">
          <Activity w={w} />
          <Details w={w} />
          {w.children.length > 0 && <Children w={w} />}
          {!removed && <TokensPanel workspaceId={w.id} />}
          {!removed && <SecretsPanel workspaceId={w.id} keys={w.secretKeys} />}
        </div>
        <div class="col">
          <Timeline workspaceId={w.id} />
          {canReadLogs && w.runtime !== 'external' && !removed && <LogsPanel key={w.container?.id ?? 'none'} workspaceId={w.id} containerId={w.container?.id ?? null} />}
        </div>
      </div>
    </article>
  );
}

function Activity({ w }: { w: Detail }) {
  return (
    <section class="card" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <dl class="stats">
        <div>
          <dt>Active tasks</dt>
          <dd data-field="tasks">
            {w.activeTasks} <span class="muted">of {w.maxConcurrentTasks}</span>
          </dd>
        </div>
        <div>
          <dt>Error rate</dt>
          <dd data-field="error-rate" class={w.lastErrorRate >= 0.5 ? 'bad' : undefined}>
            {percent(w.lastErrorRate)}
          </dd>
        </div>
        <div>
          <dt>Last heartbeat</dt>
          <dd data-field="heartbeat">
            <Age iso={w.lastHeartbeatAt} />
          </dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd>{duration(w.uptimeSeconds)}</dd>
        </div>
      </dl>
      <p class="current-task" data-field="current-task">
        <span class="muted">Current task: </span>
        {w.currentTask ?? <span class="muted">idle</span>}
      </p>
    </section>
  );
}

function Details({ w }: { w: Detail }) {
  const rows: Array<[string, preact.ComponentChildren]> = [
    ['Id', <code>{w.id}</code>],
    ['Role', w.role ?? '—'],
    ['Runtime', w.runtime],
    ['Image', w.image ?? '—'],
    ['Tier', w.tier],
    ['Agent URL', w.url ?? '—'],
    ['Parent', w.parent ? <a href={workspaceHref(w.parent.id)}>{w.parent.name}</a> : '—'],
    ['Hibernates after', w.hibernationIdleMinutes ? `${w.hibernationIdleMinutes} min idle` : 'never'],
    ['Container', w.container ? `${w.container.name} (${w.container.running ? 'running' : 'stopped'})` : '—'],
    ['Created', formatDate(w.createdAt)],
    ['Updated', formatDate(w.updatedAt)],
  ];
  return (
    <section class="card" aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <dl class="details">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Children({ w }: { w: Detail }) {
  return (
    <section class="card" aria-labelledby="children-title">
      <div class="card-head">
        <h2 id="children-title">Children ({w.childCount})</h2>
        <a href={fleetHref({ parent: w.id })}>Open as a table</a>
      </div>
      <ul class="plain-list">
        {w.children.map((c) => (
          <li key={c.id}>
            <a href={workspaceHref(c.id)}>{c.name}</a> <StatusBadge status={c.status} />
          </li>
        ))}
      </ul>
    </section>
  );
}
