// What every view of a signed-in board may need: who is looking and the live streams.
import { createContext } from 'preact';
import { useContext, useEffect, useMemo } from 'preact/hooks';
import { resyncs } from './api/connection.ts';
import type { LiveSync, StatusChange } from './api/live.ts';
import { throttle } from './lib/throttle.ts';
import type { Viewer } from './views/sign-in.tsx';

export interface Session {
  viewer: Viewer;
  /** Whether this viewer may change anything (read-only org tokens and workspace tokens may not). */
  canChange: boolean;
  /** Logs are for the admin and writable org tokens only. */
  canReadLogs: boolean;
  live: LiveSync;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in board');
  return s;
}

/** Calls `listener` for each new status change while the calling view is mounted. */
export function useStatusChanges(listener: (change: StatusChange) => void, deps: unknown[]): void {
  const { live } = useSession();
  useEffect(() => live.onStatusChange(listener), [live, ...deps]);
}

/**
 * Reads a query again (network-only, at most once per `ms`, and once after the last call) when a
 * status change concerns it, and after every regained connection: what the cache cannot derive from
 * the change itself (counts, which rows are on a page, a new container), and activity, which is not
 * replayed.
 */
export function useLiveRefetch(
  reexecute: (opts: { requestPolicy: 'network-only' }) => void,
  ms: number,
  concerns: (change: StatusChange) => boolean,
  deps: unknown[],
): void {
  const refresh = useMemo(() => throttle(() => reexecute({ requestPolicy: 'network-only' }), ms), [reexecute, ms]);
  useStatusChanges((change) => concerns(change) && refresh(), [refresh, ...deps]);
  useEffect(() => {
    const unwatch = resyncs.subscribe(() => refresh());
    return () => {
      unwatch();
      refresh.cancel();
    };
  }, [refresh]);
}
