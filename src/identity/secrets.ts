// High-entropy credentials and their stored form. A credential is 32 random bytes, so a plain SHA-256 is a safe stored
// form (no dictionary to attack) and lets a presented credential be found by its hash.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new credential: `<prefix>_` followed by 32 random bytes in base64url. */
export function generateCredential(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** A short random id for rows that are referred to by people (`cred_…`, `tok_…`). */
export function generateId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** The stored form of a credential: SHA-256 hex. */
export function hashCredential(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

/** Compares two hex digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** Compares two secrets in constant time (by their digests, so lengths leak nothing). */
export function sameSecret(a: string, b: string): boolean {
  return sameDigest(hashCredential(a), hashCredential(b));
}

/** Now, as the identity modules see it; tests pass a clock they can move. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
