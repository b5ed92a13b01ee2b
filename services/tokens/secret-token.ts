// Bearer tokens: 32 random bytes, base64url (43 characters). Only the sha256 and an 8-character
// prefix are stored; the plaintext is returned once and compared in SQL by hash.
import { createHash, randomBytes } from 'node:crypto';

export interface MintedToken {
  plaintext: string;
  hash: string;
  prefix: string;
}

export function hashToken(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

export function mintToken(): MintedToken {
  const plaintext = randomBytes(32).toString('base64url');
  return { plaintext, hash: hashToken(plaintext), prefix: plaintext.slice(0, 8) };
}

/** `Authorization` must read exactly `Bearer <token>` (API.md). */
export type BearerParse = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; token: string };

export function parseBearer(header: string | null | undefined): BearerParse {
  if (header === undefined || header === null || header === '') return { kind: 'none' };
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header);
  return m ? { kind: 'token', token: m[1]! } : { kind: 'malformed' };
}
