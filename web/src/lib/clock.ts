// The server's clock as seen from here: heartbeat ages are computed against serverTime, not against
// a browser clock that may be minutes off. One timer ticks while anything on screen shows an age.
import { createStore, useStore } from './store.ts';

let offsetMs = 0;

/** Takes serverTime from a response that left the server about `rttMs / 2` ago. */
export function syncClock(serverTime: string, sentAt: number, receivedAt: number): void {
  offsetMs = Date.parse(serverTime) + (receivedAt - sentAt) / 2 - receivedAt;
  now.set(serverNow());
}

export const serverNow = (): number => Date.now() + offsetMs;

const now = createStore(serverNow(), () => {
  const timer = setInterval(() => now.set(serverNow()), 1000);
  return () => clearInterval(timer);
});

export const useServerNow = (): number => useStore(now);
