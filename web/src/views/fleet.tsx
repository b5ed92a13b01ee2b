// The fleet: the status overview, then the workspace table with search, status filter, sort and
// paging. Filters live in the URL; the page cursor in state (it belongs to one filter).
import { useQuery } from '@urql/preact';
import { useEffect, useState } from 'preact/hooks';
import type { StatusChange } from '../api/live.ts';
import { useLiveRefetch } from '../context.ts';
import {
  FleetPageDocument,
  ScopeParentDocument,
  type OrderDirection,
  type WorkspaceOrderField,
  type WorkspaceStatus,
} from '../generated/graphql.ts';
import { STATUSES } from '../lib/format.ts';
import { fleetHref, parseRoute, replaceFleetParams, workspaceHref } from '../lib/router.ts';
import { CountsChart } from './counts-chart.tsx';
import { WorkspaceTable } from './workspace-table.tsx';

const PAGE_SIZES = [25, 50, 100];
const SORT_FIELDS: WorkspaceOrderField[] = ['CREATED_AT', 'NAME', 'STATUS', 'LAST_HEARTBEAT_AT'];
const MEMBERSHIP_REFRESH_MS = 1000;

export interface FleetFilters {
  q: string;
  status: WorkspaceStatus[];
  sort: WorkspaceOrderField;
  dir: OrderDirection;
  parent: string | null;
  size: number;
}

function readFilters(params: URLSearchParams): FleetFilters {
  const status = (params.get('status') ?? '').split(',').filter((s): s is WorkspaceStatus => (STATUSES as string[]).includes(s));
  const sort = params.get('sort') as WorkspaceOrderField;
  const size = Number(params.get('size'));
  return {
    q: params.get('q') ?? '',
    status,
    sort: SORT_FIELDS.includes(sort) ? sort : 'CREATED_AT',
    dir: params.get('dir') === 'DESC' ? 'DESC' : 'ASC',
    parent: params.get('parent'),
    size: PAGE_SIZES.includes(size) ? size : 50,
  };
}

function toParams(f: FleetFilters): Record<string, string | null> {
  return {
    q: f.q || null,
    status: f.status.join(',') || null,
    sort: f.sort === 'CREATED_AT' ? null : f.sort,
    dir: f.dir === 'ASC' ? null : f.dir,
    parent: f.parent,
    size: f.size === 50 ? null : String(f.size),
  };
}

type PageCursor = { after: string } | { before: string } | null;

export function FleetView({ params }: { params: URLSearchParams }) {
  const filters = readFilters(params);
  // Merged into what the URL says now, not into this render's copy: a debounced search may land
  // after another change.
  const setFilters = (change: Partial<FleetFilters>) => {
    const current = parseRoute(location.hash);
    replaceFleetParams(toParams({ ...(current.name === 'fleet' ? readFilters(current.params) : filters), ...change }));
  };
  const [cursor, setCursor] = useState<PageCursor>(null);
  const [pageNo, setPageNo] = useState(1);
  const filterKey = JSON.stringify(toParams(filters));
  useEffect(() => {
    setCursor(null);
    setPageNo(1);
  }, [filterKey]);

  const variables = {
    ...(cursor && 'before' in cursor ? { last: filters.size, before: cursor.before } : { first: filters.size, after: cursor?.after ?? null }),
    status: filters.status.length ? filters.status : null,
    search: filters.q.trim() || null,
    orderBy: { field: filters.sort, direction: filters.dir },
    parentId: filters.parent,
  };
  const [{ data, error, fetching }, reexecute] = useQuery({ query: FleetPageDocument, variables, requestPolicy: 'cache-and-network' });

  // Status changes update rows in place through the cache. Which rows belong on the page changes
  // only when a workspace appears or goes, or when the page is chosen or sorted by status.
  const byStatus = filters.status.length > 0 || filters.sort === 'STATUS';
  useLiveRefetch(
    reexecute,
    MEMBERSHIP_REFRESH_MS,
    (change: StatusChange) => byStatus || change.event.previousStatus === null || change.event.status === 'REMOVED',
    [byStatus],
  );

  const conn = data?.workspaces;
  const toggleStatus = (s: WorkspaceStatus) =>
    setFilters({ status: filters.status.includes(s) ? filters.status.filter((x) => x !== s) : [...filters.status, s] });

  return (
    <div class="fleet">
      <ScopeHeader parentId={filters.parent} />
      <CountsChart parentId={filters.parent} selected={filters.status} onToggle={toggleStatus} />
      <section class="card" aria-labelledby="table-title">
        <div class="toolbar">
          <h2 id="table-title">Workspaces</h2>
          <SearchBox value={filters.q} onChange={(q) => setFilters({ q })} />
          <label class="inline-field">
            <span>Sort</span>
            <select value={filters.sort} onChange={(e) => setFilters({ sort: e.currentTarget.value as WorkspaceOrderField })}>
              <option value="CREATED_AT">Created</option>
              <option value="NAME">Name</option>
              <option value="STATUS">Status</option>
              <option value="LAST_HEARTBEAT_AT">Last heartbeat</option>
            </select>
          </label>
          <button
            type="button"
            class="secondary"
            aria-label={filters.dir === 'ASC' ? 'Ascending order; switch to descending' : 'Descending order; switch to ascending'}
            onClick={() => setFilters({ dir: filters.dir === 'ASC' ? 'DESC' : 'ASC' })}
          >
            {filters.dir === 'ASC' ? '↑ Asc' : '↓ Desc'}
          </button>
          {filters.status.length > 0 && (
            <button type="button" class="ghost" onClick={() => setFilters({ status: [] })}>
              Clear status filter
            </button>
          )}
        </div>
        {!data && (error ? <p class="field-error" role="alert">The workspaces could not be loaded: {error.message}</p> : <p class="empty">Loading workspaces…</p>)}
        {conn && (
          <WorkspaceTable
            rows={conn.edges.map((e) => e.node)}
            sort={filters.sort}
            dir={filters.dir}
            onSort={(sort) => setFilters(sort === filters.sort ? { dir: filters.dir === 'ASC' ? 'DESC' : 'ASC' } : { sort, dir: 'ASC' })}
          />
        )}
        {conn && conn.edges.length === 0 && <p class="empty">{filters.q || filters.status.length ? 'No workspace matches.' : 'No workspaces yet.'}</p>}
        {conn && (
          <nav class="pager" aria-label="Pages">
            <span class="muted" aria-live="polite">
              Page {pageNo} · {conn.totalCount.toLocaleString()} match{conn.totalCount === 1 ? '' : 'es'}
              {fetching ? ' · updating…' : ''}
            </span>
            <label class="inline-field">
              <span>Per page</span>
              <select value={filters.size} onChange={(e) => setFilters({ size: Number(e.currentTarget.value) })}>
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              class="secondary"
              disabled={pageNo <= 1 || !conn.pageInfo.startCursor}
              onClick={() => {
                setPageNo(Math.max(1, pageNo - 1));
                setCursor(pageNo <= 2 ? null : { before: conn.pageInfo.startCursor! });
              }}
            >
              ← Previous
            </button>
            <button
              type="button"
              class="secondary"
              disabled={!conn.pageInfo.hasNextPage && !(cursor && 'before' in cursor)}
              onClick={() => {
                setPageNo(pageNo + 1);
                setCursor({ after: conn.pageInfo.endCursor! });
              }}
            >
              Next →
            </button>
          </nav>
        )}
      </section>
    </div>
  );
}

function SearchBox({ value, onChange }: { value: string; onChange(q: string): void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const t = setTimeout(() => onChange(text), 250);
    return () => clearTimeout(t);
  }, [text]);
  return (
    <label class="search">
      <span class="visually-hidden">Search by name or role</span>
      <input type="search" placeholder="Search name or role" value={text} maxLength={200} onInput={(e) => setText(e.currentTarget.value)} />
    </label>
  );
}

/** Inside a workspace's children: where we are, and the way back up. */
function ScopeHeader({ parentId }: { parentId: string | null }) {
  const [{ data }] = useQuery({ query: ScopeParentDocument, variables: { id: parentId ?? '' }, pause: !parentId });
  if (!parentId) return null;
  const parent = data?.workspace;
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <a href="#/">All workspaces</a>
      {parent?.parent && (
        <>
          <span aria-hidden="true">›</span>
          <a href={fleetHref({ parent: parent.parent.id })}>{parent.parent.name}</a>
        </>
      )}
      <span aria-hidden="true">›</span>
      <span aria-current="page">
        Children of <a href={workspaceHref(parentId)}>{parent?.name ?? '…'}</a>
      </span>
    </nav>
  );
}
