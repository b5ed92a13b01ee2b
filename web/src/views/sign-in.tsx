// Sign in with a token: the admin token, an org token (read-only or not) or a workspace token. The
// token is checked by asking the API who it is before it is kept.
import { Client, fetchExchange } from '@urql/core';
import { useState } from 'preact/hooks';
import { Logo } from '../ui/logo.tsx';
import { errorCode, requestErrorMessage } from '../api/errors.ts';
import { ViewerDocument, type ViewerQuery } from '../generated/graphql.ts';

export type Viewer = ViewerQuery['viewer'];

/** Asks the API who the token is, with a client of its own (nothing is kept until it is accepted). */
export async function whoIs(token: string): Promise<{ viewer?: Viewer; error?: string }> {
  const client = new Client({ url: '/graphql', exchanges: [fetchExchange], fetchOptions: { headers: { authorization: `Bearer ${token}` } } });
  const result = await client.query(ViewerDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  if (result.data) return { viewer: result.data.viewer };
  if (!result.error) return { error: 'The server could not check the token.' };
  if (errorCode(result.error) === 'UNAUTHENTICATED') return { error: 'That token was not accepted. Check it and try again.' };
  return { error: requestErrorMessage(result.error) };
}

export function SignIn({ onSignedIn, reason }: { onSignedIn(token: string, viewer: Viewer): void; reason?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(reason);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Paste a token first.');
    setBusy(true);
    const { viewer, error } = await whoIs(t);
    setBusy(false);
    if (viewer) onSignedIn(t, viewer);
    else setError(error);
  };

  return (
    <main class="sign-in">
      <form class="card sign-in-card" onSubmit={submit} noValidate>
        <div class="brand">
          <Logo />
          <span>Fleet board</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">
          Use the admin token, an org token, or a workspace token. A read-only org token shows everything and changes nothing.
        </p>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'token-error' : undefined}
          autoFocus
        />
        {error && (
          <p id="token-error" class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="muted small">The token stays in this browser tab only, and signing out forgets it.</p>
      </form>
    </main>
  );
}
