// Hash routes, so the server serves one page and every view has a link that survives a reload:
//   #/                       the fleet (query: q, status, sort, dir, parent, size)
//   #/workspaces/<id>        one workspace
import { useEffect, useState } from 'preact/hooks';

export type Route = { name: 'fleet'; params: URLSearchParams } | { name: 'workspace'; id: string };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const m = /^\/workspaces\/([^/]+)$/.exec(path);
  if (m) return { name: 'workspace', id: decodeURIComponent(m[1]!) };
  return { name: 'fleet', params: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export const workspaceHref = (id: string): string => `#/workspaces/${encodeURIComponent(id)}`;

export function fleetHref(params: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `#/?${s}` : '#/';
}

/** Changes the fleet's query without adding a history entry per keystroke. */
export function replaceFleetParams(params: Record<string, string | null | undefined>): void {
  history.replaceState(null, '', fleetHref(params));
  dispatchEvent(new HashChangeEvent('hashchange'));
}
