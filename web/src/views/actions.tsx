// Lifecycle buttons: exactly the actions the API lists in allowedActions, and the flows the typed
// errors call for (hibernate with force on ActiveTasksError, delete with the children on
// ConfirmationRequiredError).
import { useClient } from '@urql/preact';
import { useState } from 'preact/hooks';
import type { Client } from '@urql/core';
import { requestErrorMessage, typedErrorMessage, type MutationErrorShape } from '../api/errors.ts';
import { useSession } from '../context.ts';
import {
  DeleteWorkspaceDocument,
  HibernateWorkspaceDocument,
  PauseWorkspaceDocument,
  RestartWorkspaceDocument,
  ResumeWorkspaceDocument,
  type WorkspaceAction,
  type WorkspaceStatus,
} from '../generated/graphql.ts';
import { ACTION_LABEL } from '../lib/format.ts';
import { notify } from '../lib/notices.ts';
import { Dialog } from '../ui/dialog.tsx';
import { Icon } from '../ui/icons.tsx';
import { StatusBadge } from '../ui/status-badge.tsx';

export interface ActionTarget {
  id: string;
  name: string;
  childCount: number;
  allowedActions: readonly WorkspaceAction[];
}

type Pending =
  | { kind: 'confirm-delete' }
  | { kind: 'delete-children'; children: ReadonlyArray<{ id: string; name: string; status: WorkspaceStatus }> }
  | { kind: 'confirm-pause' }
  | { kind: 'force-hibernate'; activeTasks: number };

type Outcome = { ok: true; data: Record<string, unknown> } | { ok: false; error?: MutationErrorShape };

/** Sends one lifecycle mutation; request-level failures are told to the user here. */
async function send(client: Client, action: WorkspaceAction, id: string, flag = false): Promise<Outcome> {
  const result =
    action === 'RESTART' ? await client.mutation(RestartWorkspaceDocument, { id }).toPromise()
    : action === 'PAUSE' ? await client.mutation(PauseWorkspaceDocument, { id }).toPromise()
    : action === 'RESUME' ? await client.mutation(ResumeWorkspaceDocument, { id }).toPromise()
    : action === 'HIBERNATE' ? await client.mutation(HibernateWorkspaceDocument, { id, force: flag }).toPromise()
    : await client.mutation(DeleteWorkspaceDocument, { id, confirm: flag }).toPromise();
  if (!result.data) {
    if (result.error) notify('error', requestErrorMessage(result.error));
    return { ok: false };
  }
  const payload = Object.values(result.data)[0] as { __typename: string } & Record<string, unknown>;
  if (payload.__typename.endsWith('Success')) return { ok: true, data: payload };
  return { ok: false, error: payload as unknown as MutationErrorShape };
}

const DONE: Record<WorkspaceAction, (name: string, data: Record<string, unknown>) => string> = {
  RESTART: (n) => `Restarting “${n}”.`,
  PAUSE: (n, d) => `Paused “${n}”${Number(d.pausedCount) > 1 ? ` and ${Number(d.pausedCount) - 1} below it` : ''}.`,
  RESUME: (n, d) => `Resuming “${n}”${Number(d.resumedCount) > 1 ? ` and ${Number(d.resumedCount) - 1} below it` : ''}.`,
  HIBERNATE: (n) => `Hibernating “${n}”.`,
  DELETE: (n, d) => `Deleted “${n}”${Number(d.removedCount) > 1 ? ` and ${Number(d.removedCount) - 1} below it` : ''}.`,
};

export function ActionButtons({ target, compact = false, onDeleted }: { target: ActionTarget; compact?: boolean; onDeleted?(): void }) {
  const client = useClient();
  const { canChange } = useSession();
  const [busy, setBusy] = useState<WorkspaceAction | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  if (!canChange || target.allowedActions.length === 0) return null;

  const run = async (action: WorkspaceAction, flag = false) => {
    setBusy(action);
    const outcome = await send(client, action, target.id, flag);
    setBusy(null);
    setPending(null);
    if (outcome.ok) {
      notify('success', DONE[action](target.name, outcome.data));
      if (action === 'DELETE') onDeleted?.();
      return;
    }
    const error = outcome.error;
    if (!error) return;
    if (error.__typename === 'ActiveTasksError') setPending({ kind: 'force-hibernate', activeTasks: error.activeTasks ?? 0 });
    else if (error.__typename === 'ConfirmationRequiredError') setPending({ kind: 'delete-children', children: (error as { children?: [] }).children ?? [] });
    else notify('error', `${ACTION_LABEL[action]} failed: ${typedErrorMessage(error, `“${target.name}”`)}`);
  };

  const click = (action: WorkspaceAction) => {
    if (action === 'DELETE') setPending({ kind: 'confirm-delete' });
    else if (action === 'PAUSE' && target.childCount > 0) setPending({ kind: 'confirm-pause' });
    else void run(action);
  };

  return (
    <div class={compact ? 'actions compact' : 'actions'}>
      {target.allowedActions.map((action) => (
        <button
          key={action}
          type="button"
          class={action === 'DELETE' ? 'danger-ghost' : 'secondary'}
          data-action={action}
          disabled={busy !== null}
          aria-label={compact ? `${ACTION_LABEL[action]} ${target.name}` : undefined}
          title={compact ? ACTION_LABEL[action] : undefined}
          onClick={() => click(action)}
        >
          <Icon name={action} />
          {!compact && <span>{busy === action ? `${ACTION_LABEL[action]}…` : ACTION_LABEL[action]}</span>}
        </button>
      ))}
      {pending && <ActionDialog pending={pending} name={target.name} busy={busy !== null} onCancel={() => setPending(null)} run={run} />}
    </div>
  );
}

function ActionDialog({ pending, name, busy, onCancel, run }: { pending: Pending; name: string; busy: boolean; onCancel(): void; run(a: WorkspaceAction, flag?: boolean): void }) {
  const cancel = (
    <button type="button" class="secondary" onClick={onCancel}>
      Cancel
    </button>
  );
  switch (pending.kind) {
    case 'confirm-delete':
      return (
        <Dialog title={`Delete “${name}”?`} role="alertdialog" onClose={onCancel} actions={<>{cancel}<button type="button" class="danger" disabled={busy} onClick={() => run('DELETE')}>Delete</button></>}>
          <p>Its container and volume are removed and its tokens stop working. This cannot be undone.</p>
        </Dialog>
      );
    case 'delete-children':
      return (
        <Dialog title={`“${name}” has ${pending.children.length} child workspace${pending.children.length === 1 ? '' : 's'}`} role="alertdialog" onClose={onCancel} actions={<>{cancel}<button type="button" class="danger" disabled={busy} onClick={() => run('DELETE', true)}>Delete all</button></>}>
          <p>Deleting it also deletes everything below it:</p>
          <ul class="plain-list">
            {pending.children.map((c) => (
              <li key={c.id}>
                {c.name} <StatusBadge status={c.status} />
              </li>
            ))}
          </ul>
        </Dialog>
      );
    case 'confirm-pause':
      return (
        <Dialog title={`Pause “${name}”?`} onClose={onCancel} actions={<>{cancel}<button type="button" class="primary" disabled={busy} onClick={() => run('PAUSE')}>Pause all</button></>}>
          <p>Pausing stops its container and the containers of every workspace below it. Volumes are kept.</p>
        </Dialog>
      );
    case 'force-hibernate':
      return (
        <Dialog title={`“${name}” is busy`} role="alertdialog" onClose={onCancel} actions={<>{cancel}<button type="button" class="danger" disabled={busy} onClick={() => run('HIBERNATE', true)}>Hibernate anyway</button></>}>
          <p>
            It has {pending.activeTasks} active task{pending.activeTasks === 1 ? '' : 's'}. Hibernating now stops {pending.activeTasks === 1 ? 'it' : 'them'}.
          </p>
        </Dialog>
      );
  }
}
