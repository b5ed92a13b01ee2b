// Messages for the user: a short-lived list the notice area renders (aria-live), newest last.
import { createStore } from './store.ts';

export type NoticeKind = 'info' | 'success' | 'error';
export interface Notice {
  id: number;
  kind: NoticeKind;
  text: string;
}

export const notices = createStore<readonly Notice[]>([]);
let nextId = 1;

export function notify(kind: NoticeKind, text: string, ms = kind === 'error' ? 8000 : 4000): void {
  // The same text twice in a row (a retried request failing again) is one notice.
  const current = notices.get();
  if (current.some((n) => n.text === text)) return;
  const notice = { id: nextId++, kind, text };
  notices.set([...current.slice(-4), notice]);
  setTimeout(() => dismiss(notice.id), ms);
}

export function dismiss(id: number): void {
  notices.set(notices.get().filter((n) => n.id !== id));
}
