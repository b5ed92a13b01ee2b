import { link, serverUnavailable } from '../api/connection.ts';
import { useStore } from '../lib/store.ts';

const TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' } as const;

export function ConnectionPill() {
  const state = useStore(link);
  return (
    <span class={`pill link-${state}`} role="status" data-link={state} title="Live updates">
      <span class="dot" aria-hidden="true" />
      {TEXT[state]}
    </span>
  );
}

export function UnavailableBanner() {
  const down = useStore(serverUnavailable);
  const state = useStore(link);
  if (!down && state !== 'offline') return null;
  return (
    <div class="banner" role="alert">
      {down ? 'Server unavailable, retrying…' : 'No connection to the server. Retrying…'}
      <span class="muted"> What you see may be out of date until it is back.</span>
    </div>
  );
}
