// API.md's URL rule, for a workspace's `url` and the agent's registered url. Literal addresses that
// reach the cloud metadata service or cannot be a real peer are refused, in every spelling the WHATWG
// parser accepts (decimal/hex/octal IPv4, IPv4-mapped and -embedded IPv6). Host names are not
// resolved: only well-known metadata names are refused. Loopback and private addresses are allowed,
// because agents on the same host or Docker network use them.
import { isIPv4, isIPv6 } from 'node:net';

export const MAX_URL_LENGTH = 2048;

const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
  'metadata.packet.net',
]);

function ipv4ToInt(addr: string): number {
  return addr.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(n: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = ipv4ToInt(base);
  return n >= start && n < start + size;
}

function ipv4Problem(addr: string): string | null {
  const n = ipv4ToInt(addr);
  if (inV4(n, '169.254.0.0', 16)) return 'link-local and cloud metadata addresses are not allowed';
  if (n === ipv4ToInt('100.100.100.200') || n === ipv4ToInt('168.63.129.16')) return 'cloud metadata addresses are not allowed';
  if (inV4(n, '0.0.0.0', 8)) return 'the unspecified address is not allowed';
  if (inV4(n, '224.0.0.0', 4)) return 'multicast addresses are not allowed';
  if (inV4(n, '240.0.0.0', 4)) return 'reserved and broadcast addresses are not allowed';
  if (inV4(n, '192.0.2.0', 24) || inV4(n, '198.51.100.0', 24) || inV4(n, '203.0.113.0', 24)) {
    return 'documentation addresses are not allowed';
  }
  return null;
}

/** The 8 16-bit groups of an IPv6 literal (no zone; WHATWG already normalised dotted tails to hex). */
function ipv6Groups(addr: string): number[] {
  let text = addr;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = ipv4ToInt(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function ipv6Problem(addr: string): string | null {
  const g = ipv6Groups(addr);
  const embeddedV4 = () => `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  if (g.every((x) => x === 0)) return 'the unspecified address is not allowed';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local addresses are not allowed';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast addresses are not allowed';
  if (g[0] === 0x2001 && g[1] === 0x0db8) return 'documentation addresses are not allowed';
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) {
    return 'cloud metadata addresses are not allowed';
  }
  const top80Zero = g.slice(0, 5).every((x) => x === 0);
  const mapped = top80Zero && g[5] === 0xffff; // ::ffff:a.b.c.d
  const compatible = top80Zero && g[5] === 0 && !(g[6] === 0 && g[7]! <= 1); // ::a.b.c.d (not ::1)
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0); // 64:ff9b::a.b.c.d
  if (mapped || compatible || nat64) return ipv4Problem(embeddedV4());
  return null;
}

/** Why this URL is refused, or null when it is acceptable. */
export function urlProblem(url: string): string | null {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  // The WHATWG parser silently drops surrounding spaces and controls and inner tabs/newlines; the
  // string is stored as given, so it must already be clean.
  if (/[\u0000-\u0020\u007f-\u009f]/.test(url)) return 'must not contain spaces or control characters';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must use http or https';
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') return 'must name a host';
  if (host.startsWith('[')) {
    const inner = host.slice(1, -1);
    return isIPv6(inner) ? ipv6Problem(inner) : 'must name a valid host';
  }
  if (isIPv4(host)) return ipv4Problem(host);
  if (METADATA_HOSTS.has(host) || /^(metadata|instance-data)(\.[a-z0-9-]+)*\.internal$/.test(host)) {
    return 'cloud metadata host names are not allowed';
  }
  return null;
}
