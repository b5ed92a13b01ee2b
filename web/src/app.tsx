// The board: sign-in, then the signed-in shell (header, live connection, the routed view).
import { Provider } from '@urql/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createBoardApi } from './api/client.ts';
import { resyncs } from './api/connection.ts';
import { startLiveSync } from './api/live.ts';
import { SessionContext, type Session } from './context.ts';
import { ServerTimeDocument } from './generated/graphql.ts';
import { syncClock } from './lib/clock.ts';
import { notify } from './lib/notices.ts';
import { useRoute, workspaceHref } from './lib/router.ts';
import { clearToken, readToken, saveToken } from './lib/session.ts';
import { ConnectionPill, UnavailableBanner } from './ui/connection-pill.tsx';
import { Icon } from './ui/icons.tsx';
import { Logo } from './ui/logo.tsx';
import { Notices } from './ui/notices.tsx';
import { FleetView } from './views/fleet.tsx';
import { SignIn, whoIs, type Viewer } from './views/sign-in.tsx';
import { WorkspacePage } from './views/workspace-page.tsx';

type Auth = { state: 'checking' } | { state: 'out'; reason?: string } | { state: 'in'; token: string; viewer: Viewer };

export function App() {
  const [auth, setAuth] = useState<Auth>(() => (readToken() ? { state: 'checking' } : { state: 'out' }));

  useEffect(() => {
    const token = readToken();
    if (!token) return;
    void whoIs(token).then(({ viewer, error }) => {
      if (viewer) setAuth({ state: 'in', token, viewer });
      else {
        clearToken();
        setAuth({ state: 'out', reason: error });
      }
    });
  }, []);

  const signOut = (reason?: string) => {
    clearToken();
    setAuth({ state: 'out', reason });
  };

  return (
    <>
      {auth.state === 'checking' && <p class="loading-page">Loading…</p>}
      {auth.state === 'out' && (
        <SignIn
          reason={auth.reason}
          onSignedIn={(token, viewer) => {
            saveToken(token);
            setAuth({ state: 'in', token, viewer });
          }}
        />
      )}
      {auth.state === 'in' && <Board key={auth.token} token={auth.token} viewer={auth.viewer} onSignOut={signOut} />}
      <Notices />
    </>
  );
}

const VIEWER_LABEL = { ADMIN: 'Admin', ORG_TOKEN: 'Org token', WORKSPACE: 'Workspace token', ANONYMOUS: 'Anonymous' } as const;

function Board({ token, viewer, onSignOut }: { token: string; viewer: Viewer; onSignOut(reason?: string): void }) {
  const api = useMemo(() => createBoardApi(token, () => onSignOut('Your token is no longer accepted. Sign in again.')), [token]);
  const live = useMemo(() => startLiveSync(api), [api]);
  const [ready, setReady] = useState(false);
  const route = useRoute();

  useEffect(() => {
    let alive = true;
    live.ready.then(
      () => alive && setReady(true),
      () => alive && notify('error', 'Could not start live updates.'),
    );
    // Heartbeat ages are counted on the server's clock: read it now, after each reconnection, and
    // every few minutes.
    const readClock = async () => {
      const sentAt = Date.now();
      const r = await api.client.query(ServerTimeDocument, {}, { requestPolicy: 'network-only' }).toPromise();
      if (r.data) syncClock(r.data.serverTime, sentAt, Date.now());
    };
    void readClock();
    const timer = setInterval(readClock, 5 * 60_000);
    const unwatch = resyncs.subscribe(() => void readClock());
    return () => {
      alive = false;
      clearInterval(timer);
      unwatch();
      live.stop();
      api.dispose();
    };
  }, [api, live]);

  const readOnly = viewer.readOnly || viewer.kind === 'WORKSPACE';
  const session: Session = useMemo(
    () => ({ viewer, live, canChange: !readOnly, canReadLogs: !readOnly }),
    [viewer, live, readOnly],
  );

  // A workspace token sees its own workspace only: that is its board.
  const view =
    viewer.kind === 'WORKSPACE' && viewer.workspaceId ? (
      <WorkspacePage id={viewer.workspaceId} />
    ) : route.name === 'workspace' ? (
      <WorkspacePage id={route.id} />
    ) : (
      <FleetView params={route.params} />
    );

  return (
    <Provider value={api.client}>
      <SessionContext.Provider value={session}>
        <a class="skip-link" href="#main" onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}>
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href={viewer.kind === 'WORKSPACE' && viewer.workspaceId ? workspaceHref(viewer.workspaceId) : '#/'}>
            <Logo />
            <span>Fleet board</span>
          </a>
          <div class="topbar-end">
            <ConnectionPill />
            <span class="viewer" title="Signed in with">
              {VIEWER_LABEL[viewer.kind]}
              {viewer.readOnly && <span class="tag">read-only</span>}
            </span>
            <button type="button" class="ghost" onClick={() => onSignOut()}>
              <Icon name="signout" />
              <span>Sign out</span>
            </button>
          </div>
        </header>
        <UnavailableBanner />
        <main class="content" id="main" tabIndex={-1}>
          {ready ? view : <p class="loading-page">Loading…</p>}
        </main>
      </SessionContext.Provider>
    </Provider>
  );
}
