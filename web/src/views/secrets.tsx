// Secret keys: names only (values never come back). Set one (new or replaced) or delete one; they
// take effect at the next provisioning.
import { useClient } from '@urql/preact';
import { useState } from 'preact/hooks';
import { requestErrorMessage, typedErrorMessage, type MutationErrorShape } from '../api/errors.ts';
import { useSession } from '../context.ts';
import { DeleteWorkspaceSecretDocument, SetWorkspaceSecretDocument } from '../generated/graphql.ts';
import { notify } from '../lib/notices.ts';

export function SecretsPanel({ workspaceId, keys }: { workspaceId: string; keys: readonly string[] }) {
  const client = useClient();
  const { canChange } = useSession();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await client.mutation(SetWorkspaceSecretDocument, { workspaceId, key: key.trim(), value }).toPromise();
    setBusy(false);
    const out = r.data?.setWorkspaceSecret;
    if (!out) return r.error && notify('error', requestErrorMessage(r.error));
    if (out.__typename === 'SetWorkspaceSecretSuccess') {
      notify('success', `Secret ${key.trim()} set. It takes effect at the next restart.`);
      setKey('');
      setValue('');
      setFieldErrors({});
      return;
    }
    const error = out as MutationErrorShape;
    const byField = Object.fromEntries((error.fieldErrors ?? []).map((f) => [f.field, f.message]));
    setFieldErrors(byField);
    if (!error.fieldErrors?.length) notify('error', `Secret not set: ${typedErrorMessage(error, 'The workspace')}`);
  };

  const remove = async (k: string) => {
    const r = await client.mutation(DeleteWorkspaceSecretDocument, { workspaceId, key: k }).toPromise();
    const out = r.data?.deleteWorkspaceSecret;
    if (!out) return r.error && notify('error', requestErrorMessage(r.error));
    if (out.__typename === 'DeleteWorkspaceSecretSuccess') notify('success', `Secret ${k} deleted.`);
    else notify('error', `Not deleted: ${typedErrorMessage(out as MutationErrorShape, 'The workspace')}`);
  };

  const keyError = fieldErrors.key;
  const valueError = fieldErrors.value;
  return (
    <section class="card" aria-labelledby="secrets-title">
      <h2 id="secrets-title">Secrets</h2>
      {keys.length === 0 ? (
        <p class="muted">No secrets.</p>
      ) : (
        <ul class="rows">
          {keys.map((k) => (
            <li key={k} data-secret-key={k}>
              <code>{k}</code>
              {canChange && (
                <button type="button" class="danger-ghost small" onClick={() => void remove(k)} aria-label={`Delete secret ${k}`}>
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canChange && (
        <form class="secret-form" onSubmit={save}>
          <div class="field">
            <label for="secret-key">Key</label>
            <input
              id="secret-key"
              value={key}
              required
              autoComplete="off"
              spellcheck={false}
              onInput={(e) => setKey(e.currentTarget.value)}
              aria-invalid={keyError ? 'true' : undefined}
              aria-describedby={keyError ? 'secret-key-error' : undefined}
            />
            {keyError && <p id="secret-key-error" class="field-error">{keyError}</p>}
          </div>
          <div class="field">
            <label for="secret-value">Value</label>
            <input
              id="secret-value"
              type="password"
              value={value}
              autoComplete="new-password"
              onInput={(e) => setValue(e.currentTarget.value)}
              aria-invalid={valueError ? 'true' : undefined}
              aria-describedby={valueError ? 'secret-value-error' : undefined}
            />
            {valueError && <p id="secret-value-error" class="field-error">{valueError}</p>}
          </div>
          <button type="submit" class="secondary" disabled={busy || !key.trim()}>
            Set secret
          </button>
        </form>
      )}
    </section>
  );
}
