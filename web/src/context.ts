// What every view of a signed-in board may need: who is looking and the live streams.
import { createContext } from 'preact';
import { useContext, useEffect } from 'preact/hooks';
import type { LiveSync, StatusChange } from './api/live.ts';
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
