// The workspace table. Rows re-render only when their workspace changes in the cache; on a narrow
// screen each row becomes a card (styles.css), the cells keep their labels.
import { memo } from '../lib/memo.ts';
import type { OrderDirection, WorkspaceOrderField, WorkspaceRowFragment } from '../generated/graphql.ts';
import { percent } from '../lib/format.ts';
import { fleetHref, workspaceHref } from '../lib/router.ts';
import { Age } from '../ui/age.tsx';
import { Icon } from '../ui/icons.tsx';
import { StatusBadge } from '../ui/status-badge.tsx';
import { ActionButtons } from './actions.tsx';

interface TableProps {
  rows: readonly WorkspaceRowFragment[];
  sort: WorkspaceOrderField;
  dir: OrderDirection;
  onSort(field: WorkspaceOrderField): void;
}

export function WorkspaceTable({ rows, sort, dir, onSort }: TableProps) {
  const header = (field: WorkspaceOrderField | null, label: string, cls = '') => {
    if (!field) return <th scope="col" class={cls}>{label}</th>;
    const active = sort === field;
    return (
      <th scope="col" class={cls} aria-sort={active ? (dir === 'ASC' ? 'ascending' : 'descending') : undefined}>
        <button type="button" class="sort" onClick={() => onSort(field)}>
          {label}
          <span class="sort-mark" aria-hidden="true">{active ? (dir === 'ASC' ? '▲' : '▼') : ''}</span>
        </button>
      </th>
    );
  };
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class="ws-table">
        <caption class="visually-hidden">Workspaces, {rows.length} on this page</caption>
        {/* Fixed column widths: a live change in one row never re-lays out (or shifts) the others. */}
        <colgroup>
          <col class="c-name" />
          <col class="c-status" />
          <col class="c-tasks" />
          <col class="c-task" />
          <col class="c-errors" />
          <col class="c-heartbeat" />
          <col class="c-children" />
          <col class="c-actions" />
        </colgroup>
        <thead>
          <tr>
            {header('NAME', 'Name')}
            {header('STATUS', 'Status')}
            {header(null, 'Tasks', 'num')}
            {header(null, 'Current task')}
            {header(null, 'Errors', 'num')}
            {header('LAST_HEARTBEAT_AT', 'Heartbeat')}
            {header(null, 'Children')}
            {header(null, 'Actions', 'actions-col')}
          </tr>
        </thead>
        <tbody>
          {rows.map((w) => (
            <Row key={w.id} w={w} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const Row = memo(function Row({ w }: { w: WorkspaceRowFragment }) {
  return (
    <tr data-workspace-id={w.id} data-status={w.status}>
      <td class="name-cell" data-label="Name">
        <a href={workspaceHref(w.id)} class="ws-name">
          {w.name}
        </a>
        <span class="sub">
          {w.parent && (
            <>
              in <a href={workspaceHref(w.parent.id)}>{w.parent.name}</a> ·{' '}
            </>
          )}
          {w.role ? `${w.role} · ` : ''}
          {w.runtime} · tier {w.tier}
        </span>
      </td>
      <td data-label="Status">
        <StatusBadge status={w.status} />
      </td>
      <td class="num" data-label="Tasks" data-field="tasks">
        {w.activeTasks}
        <span class="muted">/{w.maxConcurrentTasks}</span>
      </td>
      <td class="task-cell" data-label="Current task" data-field="current-task" title={w.currentTask ?? undefined}>
        {w.currentTask ?? <span class="muted">idle</span>}
      </td>
      <td class={`num${w.lastErrorRate >= 0.5 ? ' bad' : ''}`} data-label="Errors" data-field="error-rate">
        {percent(w.lastErrorRate)}
      </td>
      <td data-label="Heartbeat" data-field="heartbeat">
        <Age iso={w.lastHeartbeatAt} />
      </td>
      <td data-label="Children">
        {w.childCount > 0 ? (
          <a class="children-link" href={fleetHref({ parent: w.id })}>
            {w.childCount} <Icon name="chevron" />
            <span class="visually-hidden"> children of {w.name}</span>
          </a>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td class="actions-col" data-label="Actions">
        <ActionButtons target={w} compact />
      </td>
    </tr>
  );
});
