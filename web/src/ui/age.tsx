import { ago, formatDate } from '../lib/format.ts';
import { useServerNow } from '../lib/clock.ts';

/** "12 s ago", counted against the server's clock and updated every second. */
export function Age({ iso }: { iso: string | null | undefined }) {
  const now = useServerNow();
  if (!iso) return <span class="muted">never</span>;
  return (
    <time dateTime={iso} title={formatDate(iso)}>
      {ago(iso, now)}
    </time>
  );
}
