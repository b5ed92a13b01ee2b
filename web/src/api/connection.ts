// What the board knows about its link to the server, shown in the header:
//   connecting    the first connection of this sign-in is being opened;
//   live          the WebSocket is connected and acknowledged;
//   reconnecting  it was lost (or is being opened) and the board is retrying;
//   offline       the browser is offline, or no connection succeeded for OFFLINE_AFTER_MS.
// `serverUnavailable` is set while the server answers SERVICE_UNAVAILABLE (its database is down).
// `resyncs` counts connections regained after a loss: views re-read what has no replay (activity).
import { createStore } from '../lib/store.ts';

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'offline';
export const OFFLINE_AFTER_MS = 10_000;

export const link = createStore<LinkState>('connecting');
export const serverUnavailable = createStore(false);
export const resyncs = createStore(0);

let lostAt: number | null = null;
let offlineTimer: ReturnType<typeof setTimeout> | undefined;
let everConnected = false;

export function markConnected(): void {
  clearTimeout(offlineTimer);
  const regained = everConnected && lostAt !== null;
  everConnected = true;
  lostAt = null;
  link.set('live');
  if (regained) resyncs.set(resyncs.get() + 1);
}

export function markLost(): void {
  if (lostAt === null) lostAt = Date.now();
  if (link.get() === 'live' || link.get() === 'connecting') link.set('reconnecting');
  clearTimeout(offlineTimer);
  const left = OFFLINE_AFTER_MS - (Date.now() - lostAt);
  if (!navigator.onLine || left <= 0) link.set('offline');
  else offlineTimer = setTimeout(() => link.get() !== 'live' && link.set('offline'), left);
}

export function resetConnection(): void {
  clearTimeout(offlineTimer);
  lostAt = null;
  everConnected = false;
  link.set('connecting');
  serverUnavailable.set(false);
}
