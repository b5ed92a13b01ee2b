import { dismiss, notices } from '../lib/notices.ts';
import { useStore } from '../lib/store.ts';

/** Toasts: errors are announced at once (alert), the rest politely. */
export function Notices() {
  const list = useStore(notices);
  return (
    <div class="notices" aria-live="polite">
      {list.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" class="ghost small" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
