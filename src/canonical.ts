// Canonical JSON (RFC 8785) and the hashes derived from it: what approvers approve is exactly what executes.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** RFC 8785 canonical JSON of a JSON value. */
export function canonicalJson(value: unknown): string {
  return canonicalize(value) ?? 'null';
}

/** SHA-256 (hex) of a string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `sha256:<hex>` over the canonical JSON of action parameters. */
export function paramsHash(params: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(params))}`;
}
