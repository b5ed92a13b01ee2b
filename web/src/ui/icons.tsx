// A few line icons (24×24, stroke = currentColor), decorative: the button around each has a label.
import type { WorkspaceAction } from '../generated/graphql.ts';

const paths: Record<WorkspaceAction | 'chevron' | 'signout' | 'search', string> = {
  RESTART: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
  PAUSE: 'M9 5v14M15 5v14',
  RESUME: 'M7 4.5v15l12-7.5z',
  HIBERNATE: 'M20 14.5A8 8 0 1 1 9.5 4a6.5 6.5 0 0 0 10.5 10.5z',
  DELETE: 'M4 7h16M10 11v6M14 11v6M6 7l1 12.5a1.5 1.5 0 0 0 1.5 1.5h7a1.5 1.5 0 0 0 1.5-1.5L18 7M9 7V4.5h6V7',
  chevron: 'M9 6l6 6-6 6',
  signout: 'M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 17l5-5-5-5M15 12H3',
  search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4',
};

export function Icon({ name }: { name: keyof typeof paths }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path d={paths[name]} fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
