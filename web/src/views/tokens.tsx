// The workspace's live tokens: create one (its plaintext is shown once, here) or revoke one.
import { useClient, useQuery } from '@urql/preact';
import { useState } from 'preact/hooks';
import { requestErrorMessage, typedErrorMessage, type MutationErrorShape } from '../api/errors.ts';
import { useLiveRefetch, useSession } from '../context.ts';
import { CreateWorkspaceTokenDocument, RevokeWorkspaceTokenDocument, WorkspaceTokensDocument } from '../generated/graphql.ts';
import { formatDate } from '../lib/format.ts';
import { notify } from '../lib/notices.ts';
import { Age } from '../ui/age.tsx';
import { Dialog } from '../ui/dialog.tsx';

export function TokensPanel({ workspaceId }: { workspaceId: string }) {
  const client = useClient();
  const { canChange } = useSession();
  const [{ data }, reexecute] = useQuery({ query: WorkspaceTokensDocument, variables: { id: workspaceId }, requestPolicy: 'cache-and-network' });
  // A restart revokes the tokens and provisioning issues a new one.
  useLiveRefetch(reexecute, 1000, (c) => c.event.workspaceId === workspaceId, [workspaceId]);
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; prefix: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const tokens = data?.workspace?.tokens ?? [];

  const create = async () => {
    setBusy(true);
    const r = await client.mutation(CreateWorkspaceTokenDocument, { workspaceId }).toPromise();
    setBusy(false);
    const out = r.data?.createWorkspaceToken;
    if (!out) return r.error && notify('error', requestErrorMessage(r.error));
    if (out.__typename === 'CreateWorkspaceTokenSuccess') setCreated(out.token);
    else notify('error', `Token not created: ${typedErrorMessage(out as MutationErrorShape, 'The workspace')}`);
  };

  const revoke = async (tokenId: string) => {
    setBusy(true);
    const r = await client.mutation(RevokeWorkspaceTokenDocument, { workspaceId, tokenId }).toPromise();
    setBusy(false);
    setRevoking(null);
    const out = r.data?.revokeWorkspaceToken;
    if (!out) return r.error && notify('error', requestErrorMessage(r.error));
    if (out.__typename === 'RevokeWorkspaceTokenSuccess') notify('success', 'Token revoked.');
    else notify('error', `Not revoked: ${typedErrorMessage(out as MutationErrorShape, 'The token')}`);
  };

  return (
    <section class="card" aria-labelledby="tokens-title">
      <div class="card-head">
        <h2 id="tokens-title">Tokens</h2>
        {canChange && (
          <button type="button" class="secondary" disabled={busy} onClick={create}>
            Create token
          </button>
        )}
      </div>
      {tokens.length === 0 ? (
        <p class="muted">No live tokens.</p>
      ) : (
        <ul class="rows">
          {tokens.map((t) => (
            <li key={t.id} data-token-id={t.id}>
              <code>{t.prefix}…</code>
              <span class="muted small">
                created {formatDate(t.createdAt)} · used <Age iso={t.lastUsedAt} />
              </span>
              {canChange && (
                <button type="button" class="danger-ghost small" onClick={() => setRevoking(t)} aria-label={`Revoke token ${t.prefix}`}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {created && (
        <Dialog
          title="New token"
          onClose={() => setCreated(null)}
          actions={
            <button type="button" class="primary" onClick={() => setCreated(null)}>
              Done
            </button>
          }
        >
          <p>Copy it now: it is shown only this once.</p>
          <div class="secret-box">
            <input readOnly value={created} aria-label="New token" onFocus={(e) => e.currentTarget.select()} data-new-token />
            <button type="button" class="secondary" onClick={() => void navigator.clipboard?.writeText(created).then(() => notify('success', 'Copied.'))}>
              Copy
            </button>
          </div>
        </Dialog>
      )}
      {revoking && (
        <Dialog
          title="Revoke this token?"
          role="alertdialog"
          onClose={() => setRevoking(null)}
          actions={
            <>
              <button type="button" class="secondary" onClick={() => setRevoking(null)}>
                Cancel
              </button>
              <button type="button" class="danger" disabled={busy} onClick={() => void revoke(revoking.id)}>
                Revoke
              </button>
            </>
          }
        >
          <p>
            An agent using <code>{revoking.prefix}…</code> is refused from now on.
          </p>
        </Dialog>
      )}
    </section>
  );
}
