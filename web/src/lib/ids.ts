// Event ids are decimal strings of a 64-bit sequence: compared as numbers without losing precision.
export function compareEventIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function maxEventId(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareEventIds(a, b) >= 0 ? a : b;
}
