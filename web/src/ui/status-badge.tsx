import type { WorkspaceStatus } from '../generated/graphql.ts';
import { statusLabel } from '../lib/format.ts';

export function StatusBadge({ status }: { status: WorkspaceStatus }) {
  return (
    <span class={`badge s-${status.toLowerCase()}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}
