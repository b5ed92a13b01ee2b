// Which workspace a container or volume belongs to. The full id in the `molecule.workspace.id` label
// is authoritative; only without a usable label does the name count, and then only the exact shape
// the server gives names: `ws-` + the first 12 characters of a canonical (lower-case) UUID, which are
// 8 hex digits, a hyphen and 3 hex digits. Anything else (`%`, `_`, upper case, other lengths) is
// ignored, so no name ever reaches SQL as a pattern: matching is by equality only.
import { LABEL_WORKSPACE_ID, type ContainerInfo, type VolumeInfo } from '../runtime/types.js';
import { isUuid } from '../workspaces/record.js';

const CONTAINER_NAME = /^ws-([0-9a-f]{8}-[0-9a-f]{3})$/;
const VOLUME_NAME = /^ws-([0-9a-f]{8}-[0-9a-f]{3})-configs$/;

export type WorkspaceRef = { id: string; prefix?: undefined } | { id?: undefined; prefix: string };

/** The prefix of a workspace id that its container name carries. */
export function idPrefix(id: string): string {
  return id.toLowerCase().slice(0, 12);
}

function labeledId(labels: Record<string, string>): string | null {
  const id = labels[LABEL_WORKSPACE_ID];
  return id !== undefined && isUuid(id) ? id.toLowerCase() : null;
}

export function containerRef(c: Pick<ContainerInfo, 'name' | 'labels'>): WorkspaceRef | null {
  const id = labeledId(c.labels);
  if (id) return { id };
  const m = CONTAINER_NAME.exec(c.name);
  return m ? { prefix: m[1]! } : null;
}

export function volumeRef(v: Pick<VolumeInfo, 'name' | 'labels'>): WorkspaceRef | null {
  const id = labeledId(v.labels);
  if (id) return { id };
  const m = VOLUME_NAME.exec(v.name);
  return m ? { prefix: m[1]! } : null;
}

/** The two bind arrays of a set-based statement: full ids (uuid[]) and unlabeled prefixes (text[]). */
export interface RefArrays {
  ids: string[];
  prefixes: string[];
}

export function refArrays(refs: Iterable<WorkspaceRef | null>): RefArrays {
  const ids = new Set<string>();
  const prefixes = new Set<string>();
  for (const r of refs) {
    if (r?.id) ids.add(r.id);
    else if (r?.prefix) prefixes.add(r.prefix);
  }
  return { ids: [...ids], prefixes: [...prefixes] };
}

/**
 * Whether a workspace (by id or prefix) has any container among these. A prefix is also compared with
 * the prefixes of labeled ids, erring towards "has a container": its volume or tokens are then left alone.
 */
export function containerPresence(containers: RefArrays): (ref: WorkspaceRef) => boolean {
  const ids = new Set(containers.ids);
  const prefixes = new Set([...containers.prefixes, ...containers.ids.map(idPrefix)]);
  return (ref) => (ref.id ? ids.has(ref.id) || prefixes.has(idPrefix(ref.id)) : prefixes.has(ref.prefix!));
}
