// The fleet at a glance: how many workspaces are in each status, as one stacked bar, with a legend
// whose entries filter the table. Live: re-read (throttled) whenever a status change arrives.
import { useQuery } from '@urql/preact';
import { useLiveRefetch } from '../context.ts';
import { FleetCountsDocument, type WorkspaceStatus } from '../generated/graphql.ts';
import { statusLabel } from '../lib/format.ts';

const COUNTS_REFRESH_MS = 1000;

export function CountsChart({ parentId, selected, onToggle }: { parentId: string | null; selected: readonly WorkspaceStatus[]; onToggle(s: WorkspaceStatus): void }) {
  const [{ data, error }, reexecute] = useQuery({ query: FleetCountsDocument, variables: { parentId }, requestPolicy: 'cache-and-network' });
  useLiveRefetch(reexecute, COUNTS_REFRESH_MS, () => true, []);

  const counts = data?.workspaceCounts ?? [];
  const total = counts.reduce((n, c) => n + c.count, 0);
  return (
    <section class="card overview" aria-labelledby="overview-title">
      <div class="overview-head">
        <h2 id="overview-title">{parentId ? 'Children by status' : 'Fleet by status'}</h2>
        <p class="total" data-total={total}>
          <strong>{total.toLocaleString()}</strong> workspace{total === 1 ? '' : 's'}
        </p>
      </div>
      {error && !data && <p class="field-error">Counts are unavailable.</p>}
      <div class="stack-bar" role="img" aria-label={counts.filter((c) => c.count).map((c) => `${statusLabel(c.status)}: ${c.count}`).join(', ') || 'No workspaces'}>
        {counts
          .filter((c) => c.count > 0)
          .map((c) => (
            <span key={c.status} class={`seg s-${c.status.toLowerCase()}`} style={{ flexGrow: c.count }} />
          ))}
      </div>
      <ul class="legend" aria-label="Filter by status">
        {counts.map((c) => (
          <li key={c.status}>
            <button
              type="button"
              class={`legend-item s-${c.status.toLowerCase()}${c.count === 0 ? ' zero' : ''}`}
              aria-pressed={selected.includes(c.status)}
              data-count-status={c.status}
              onClick={() => onToggle(c.status)}
            >
              <span class="dot" aria-hidden="true" />
              <span class="legend-label">{statusLabel(c.status)}</span>
              <span class="legend-count">{c.count.toLocaleString()}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
