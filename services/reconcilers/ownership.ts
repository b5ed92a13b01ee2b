// Which resources this deployment may sweep (API.md "Reconcilers", DESIGN.md "A deployment owns only
// what it labeled"). A resource carrying another deployment's id is never touched. One carrying ours
// is ours whatever its name. One carrying none was made before the label existed (or by hand): it is
// only ever reaped by the `ws-*` name rule, when its name ties it to a REMOVED workspace of this
// database, so an upgrade neither orphans nor reaps a running workspace.
import { LABEL_DEPLOYMENT, type ContainerInfo, type VolumeInfo } from '../runtime/types.js';
import { containerRef, idPrefix, volumeRef, type WorkspaceRef } from './container-match.js';

export type Ownership = 'ours' | 'unlabeled' | 'foreign';

export function ownershipOf(labels: Record<string, string>, deploymentId: string): Ownership {
  const d = labels[LABEL_DEPLOYMENT];
  if (d === undefined) return 'unlabeled';
  return d === deploymentId ? 'ours' : 'foreign';
}

const NAME_PREFIX = /^ws-([0-9a-f]{8}-[0-9a-f]{3})$/;

/**
 * The workspace a `ws-*` container belongs to for the REMOVED-rows rule: ours by its labels; an
 * unlabeled one only by the name rule (and when it also has a workspace id label, that id must agree
 * with its name); another deployment's never.
 */
export function removedRuleRef(c: Pick<ContainerInfo, 'name' | 'labels'>, deploymentId: string): WorkspaceRef | null {
  const owner = ownershipOf(c.labels, deploymentId);
  if (owner === 'foreign') return null;
  const ref = containerRef(c);
  if (owner === 'ours' || !ref) return ref;
  const named = NAME_PREFIX.exec(c.name)?.[1];
  if (!named) return null;
  if (ref.id) return idPrefix(ref.id) === named ? ref : null;
  return ref;
}

/**
 * A managed container of this deployment for the no-row rule: its workspace ref, or `unmatchable`
 * when neither a workspace id label nor its name can name any workspace row (so no row exists).
 */
export function noRowRuleRef(c: Pick<ContainerInfo, 'name' | 'labels'>, deploymentId: string): WorkspaceRef | 'unmatchable' | null {
  if (ownershipOf(c.labels, deploymentId) !== 'ours') return null;
  return containerRef(c) ?? 'unmatchable';
}

/**
 * Whether reaping a container (tied to `ref`) may also remove this volume: it must be that
 * workspace's volume by name and labels, and ours or unlabeled by deployment, never another's.
 */
export function volumeGoesWith(v: VolumeInfo, ref: WorkspaceRef, deploymentId: string): boolean {
  if (ownershipOf(v.labels, deploymentId) === 'foreign') return false;
  const prefix = ref.id ? idPrefix(ref.id) : ref.prefix;
  if (v.name !== `ws-${prefix}-configs`) return false;
  const labeled = volumeRef(v)?.id;
  return !(ref.id && labeled) || labeled === ref.id;
}
