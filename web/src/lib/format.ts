// How values read on the board.
import type { WorkspaceAction, WorkspaceStatus } from '../generated/graphql.ts';

const STATUS_LABEL: Record<WorkspaceStatus, string> = {
  PROVISIONING: 'Provisioning',
  ONLINE: 'Online',
  DEGRADED: 'Degraded',
  OFFLINE: 'Offline',
  FAILED: 'Failed',
  PAUSED: 'Paused',
  HIBERNATING: 'Hibernating',
  HIBERNATED: 'Hibernated',
  AWAITING_AGENT: 'Awaiting agent',
  REMOVED: 'Removed',
};

/** The enum's declaration order in API.md (the printed schema sorts enums by name): the labels' order. */
export const STATUSES = Object.keys(STATUS_LABEL) as readonly WorkspaceStatus[];

export const statusLabel = (s: WorkspaceStatus): string => STATUS_LABEL[s] ?? s;

export const ACTION_LABEL: Record<WorkspaceAction, string> = {
  RESTART: 'Restart',
  PAUSE: 'Pause',
  RESUME: 'Resume',
  HIBERNATE: 'Hibernate',
  DELETE: 'Delete',
};

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

export const percent = (rate: number): string => `${Math.round(rate * 1000) / 10}%`;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const formatDate = (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : '—');

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
export const formatTime = (iso: string): string => time.format(new Date(iso));
