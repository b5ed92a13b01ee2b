// SWARM_PLACEMENT: the placement constraints of every workspace service, and which nodes they allow.
// The daemon enforces the constraints itself; they are evaluated here too only to size tier limits
// (API.md: capped at the total capacity of the largest node the constraints allow). The matching
// follows Swarm's own rules: `key==value` or `key!=value`; values compare case-insensitively; a
// missing label reads as ""; an unknown key matches no node.

export interface Constraint {
  key: string;
  equal: boolean;
  value: string;
}

/** The parts of a node (GET /nodes) that constraints and capacity read. */
export interface SwarmNode {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: {
    Hostname?: string;
    Platform?: { OS?: string; Architecture?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
    Engine?: { Labels?: Record<string, string> };
  };
  Status?: { State?: string; Addr?: string };
}

export interface Capacity {
  nanoCpus: number;
  memoryBytes: number;
}

const KEY = /^(node\.(id|hostname|ip|role|platform\.os|platform\.arch)|node\.labels\.[^\s=!]+|engine\.labels\.[^\s=!]+)$/i;

/** Parses one expression; throws with a message fit for a configuration error. */
export function parseConstraint(expression: string): Constraint {
  const m = /^\s*([^=!\s]+)\s*(==|!=)\s*(.*?)\s*$/.exec(expression);
  if (!m || !m[3]) throw new Error(`"${expression}" is not of the form key==value or key!=value`);
  if (!KEY.test(m[1]!)) throw new Error(`"${m[1]}" is not a Swarm placement key (node.id, node.hostname, node.ip, node.role, node.platform.os, node.platform.arch, node.labels.<name>, engine.labels.<name>)`);
  // The characters Swarm accepts in a value; anything else the daemon would refuse at every create.
  if (!/^[A-Za-z0-9:\-_\s.*()?+[\]\\^$|/]+$/.test(m[3])) throw new Error(`"${m[3]}" has characters Swarm does not accept in a constraint value`);
  return { key: m[1]!, equal: m[2] === '==', value: m[3] };
}

/** SWARM_PLACEMENT (comma-separated) → the expressions, each validated; empty → none. */
export function parsePlacement(raw: string): string[] {
  const expressions = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of expressions) parseConstraint(e);
  return expressions;
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** node.ip: an address or an IPv4 CIDR block. null = not understood (Swarm rejects the node). */
function ipMatches(expression: string, addr: string): boolean | null {
  const [base, bits] = expression.split('/');
  if (bits === undefined) return expression.toLowerCase() === addr.toLowerCase();
  const b = ipv4ToInt(base!);
  const a = ipv4ToInt(addr);
  const n = Number(bits);
  if (b === null || !Number.isInteger(n) || n < 0 || n > 32) return null;
  if (a === null) return false;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function attribute(key: string, node: SwarmNode): string | null {
  const lower = key.toLowerCase();
  if (lower === 'node.id') return node.ID;
  if (lower === 'node.hostname') return node.Description?.Hostname ?? '';
  if (lower === 'node.role') return node.Spec?.Role ?? '';
  if (lower === 'node.platform.os') return node.Description?.Platform?.OS ?? '';
  if (lower === 'node.platform.arch') return node.Description?.Platform?.Architecture ?? '';
  // The label name itself is case-sensitive; only the prefix is not.
  if (lower.startsWith('node.labels.')) return node.Spec?.Labels?.[key.slice('node.labels.'.length)] ?? '';
  if (lower.startsWith('engine.labels.')) return node.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)] ?? '';
  return null;
}

export function nodeMatches(constraints: readonly Constraint[], node: SwarmNode): boolean {
  return constraints.every((c) => {
    if (c.key.toLowerCase() === 'node.ip') {
      const hit = ipMatches(c.value, node.Status?.Addr ?? '');
      return hit !== null && hit === c.equal;
    }
    const value = attribute(c.key, node);
    if (value === null) return false;
    return (value.toLowerCase() === c.value.toLowerCase()) === c.equal;
  });
}

/**
 * The total capacity of the largest node the constraints allow (by CPUs, then memory), preferring
 * nodes that can take tasks now (ready, active); null when no node matches at all.
 */
export function largestAllowedNode(nodes: readonly SwarmNode[], constraints: readonly Constraint[]): Capacity | null {
  const allowed = nodes.filter((n) => nodeMatches(constraints, n));
  const usable = allowed.filter((n) => n.Status?.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active');
  const pool = usable.length > 0 ? usable : allowed;
  let best: Capacity | null = null;
  for (const n of pool) {
    const c = { nanoCpus: n.Description?.Resources?.NanoCPUs ?? 0, memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0 };
    if (!best || c.nanoCpus > best.nanoCpus || (c.nanoCpus === best.nanoCpus && c.memoryBytes > best.memoryBytes)) best = c;
  }
  return best;
}
