// AES-256-GCM with a fresh 96-bit IV per value. The workspace id and key are the additional
// authenticated data, so a ciphertext copied onto another row or key fails to decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

const aad = (workspaceId: string, key: string) => Buffer.from(`${workspaceId.toLowerCase()}\u0000${key}`, 'utf8');

export function sealSecret(masterKey: Buffer, workspaceId: string, key: string, value: string): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(aad(workspaceId, key));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

export function openSecret(masterKey: Buffer, workspaceId: string, key: string, sealed: SealedSecret): string {
  const decipher = createDecipheriv('aes-256-gcm', masterKey, sealed.iv);
  decipher.setAAD(aad(workspaceId, key));
  decipher.setAuthTag(sealed.authTag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
}
