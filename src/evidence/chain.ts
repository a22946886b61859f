// The JSONL evidence file: one line per record, each holding the hash of the line before it, and a last line with a
// manifest signed with Ed25519 (count, first and last hash, range, key id). Any record altered, removed, inserted or
// moved breaks the chain or the manifest; a manifest altered or signed by another key fails its signature.
import { createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { canonicalJson, sha256Hex } from '../canonical';
import { AppError } from '../errors';

/** The format name every manifest carries. */
export const EVIDENCE_FORMAT = 'countersign-evidence/1';
/** `prev` of the first record. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** One record line. */
export interface ChainedLine<T = unknown> {
  seq: number;
  prev: string;
  record: T;
  hash: string;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  count: number;
  firstHash: string | null;
  lastHash: string | null;
  /** The submit-time range exported, [from, to). */
  range: { from: string; to: string };
  filter: { agent?: string; action?: string };
  generatedAt: string;
  alg: 'EdDSA';
  keyId: string;
  /** The signer's public key, for convenience; verification trusts only a key the verifier supplies. */
  publicKey: JWK;
}

export interface SignedManifestLine {
  manifest: EvidenceManifest;
  /** Ed25519 signature (base64url) over the canonical JSON of `manifest`. */
  signature: string;
}

/** The key an export is signed with. */
export interface EvidenceSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/** The hash of a record line: SHA-256 over the canonical JSON of its sequence number, predecessor and record. */
export function lineHash(seq: number, prev: string, record: unknown): string {
  return `sha256:${sha256Hex(canonicalJson({ seq, prev, record }))}`;
}

/** Chains records and signs the manifest; returns the JSONL text (one line per record, then the manifest). */
export function writeEvidenceJsonl(
  records: readonly unknown[],
  options: {
    key: EvidenceSigningKey;
    range: { from: Date; to: Date };
    filter?: { agent?: string; action?: string };
    now?: Date;
  },
): string {
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  const hashes: string[] = [];
  records.forEach((record, seq) => {
    const hash = lineHash(seq, prev, record);
    lines.push(JSON.stringify({ seq, prev, record, hash } satisfies ChainedLine));
    hashes.push(hash);
    prev = hash;
  });
  const manifest: EvidenceManifest = {
    format: EVIDENCE_FORMAT,
    count: records.length,
    firstHash: hashes[0] ?? null,
    lastHash: hashes.at(-1) ?? null,
    range: { from: options.range.from.toISOString(), to: options.range.to.toISOString() },
    filter: { ...options.filter },
    generatedAt: (options.now ?? new Date()).toISOString(),
    alg: 'EdDSA',
    keyId: options.key.kid,
    publicKey: options.key.publicJwk,
  };
  const signature = edSign(null, Buffer.from(canonicalJson(manifest), 'utf8'), options.key.privateKey).toString(
    'base64url',
  );
  lines.push(JSON.stringify({ manifest, signature } satisfies SignedManifestLine));
  return `${lines.join('\n')}\n`;
}

export type EvidenceProblemCode =
  | 'malformed_line'
  | 'altered_record'
  | 'out_of_sequence'
  | 'broken_chain'
  | 'missing_manifest'
  | 'count_mismatch'
  | 'first_hash_mismatch'
  | 'last_hash_mismatch'
  | 'untrusted_key'
  | 'bad_signature';

export interface EvidenceProblem {
  /** 1-based line number; 0 for the file as a whole. */
  line: number;
  code: EvidenceProblemCode;
  message: string;
}

export interface EvidenceVerification {
  ok: boolean;
  /** Record lines read. */
  records: number;
  manifest?: EvidenceManifest;
  problems: EvidenceProblem[];
}

/**
 * Verifies a JSONL evidence export against the public keys the verifier trusts (JWKs: the deployment's receipt
 * JWKS, say). Every problem is reported, not just the first.
 */
export async function verifyEvidenceJsonl(text: string, trustedKeys: readonly JWK[]): Promise<EvidenceVerification> {
  const problems: EvidenceProblem[] = [];
  const raw = text.split('\n');
  if (raw.at(-1) === '') raw.pop();
  const parsed = raw.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      problems.push({ line: i + 1, code: 'malformed_line', message: 'not JSON' });
      return undefined;
    }
  });
  const last = parsed.at(-1);
  const manifestLine = isManifestLine(last) ? last : undefined;
  if (!manifestLine) problems.push({ line: 0, code: 'missing_manifest', message: 'the last line is not a manifest' });
  const recordLines = manifestLine ? parsed.slice(0, -1) : parsed;

  let prev = GENESIS_HASH;
  const hashes: string[] = [];
  recordLines.forEach((value, i) => {
    const lineNo = i + 1;
    if (value === undefined) return;
    if (!isChainedLine(value)) {
      problems.push({ line: lineNo, code: 'malformed_line', message: 'not a record line (seq, prev, record, hash)' });
      return;
    }
    if (value.seq !== i) {
      problems.push({ line: lineNo, code: 'out_of_sequence', message: `sequence number ${value.seq}, expected ${i}` });
    }
    if (value.prev !== prev) {
      problems.push({ line: lineNo, code: 'broken_chain', message: 'does not follow the record before it' });
    }
    if (lineHash(value.seq, value.prev, value.record) !== value.hash) {
      problems.push({ line: lineNo, code: 'altered_record', message: 'content does not match its hash' });
    }
    hashes.push(value.hash);
    prev = value.hash;
  });

  const manifest = manifestLine?.manifest;
  if (manifestLine && manifest) {
    const lineNo = raw.length;
    if (manifest.count !== recordLines.length) {
      problems.push({
        line: lineNo,
        code: 'count_mismatch',
        message: `manifest counts ${manifest.count} records, the file has ${recordLines.length}`,
      });
    }
    if ((hashes[0] ?? null) !== manifest.firstHash) {
      problems.push({ line: lineNo, code: 'first_hash_mismatch', message: 'first record is not the one signed' });
    }
    if ((hashes.at(-1) ?? null) !== manifest.lastHash) {
      problems.push({ line: lineNo, code: 'last_hash_mismatch', message: 'last record is not the one signed' });
    }
    const key = await trustedKey(trustedKeys, manifest.keyId);
    if (!key) {
      problems.push({
        line: lineNo,
        code: 'untrusted_key',
        message: `signed with key ${manifest.keyId}, which is not among the trusted keys`,
      });
    } else if (!signatureValid(manifest, manifestLine.signature, key)) {
      problems.push({ line: lineNo, code: 'bad_signature', message: 'the manifest signature does not verify' });
    }
  }
  return {
    ok: problems.length === 0,
    records: recordLines.length,
    ...(manifest ? { manifest } : {}),
    problems,
  };
}

/** The trusted key with this RFC 7638 thumbprint (the key id every Countersign process computes). */
async function trustedKey(keys: readonly JWK[], kid: string): Promise<KeyObject | undefined> {
  for (const jwk of keys) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') continue;
    const thumbprint = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'sha256');
    if (thumbprint === kid) return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  }
  return undefined;
}

function signatureValid(manifest: EvidenceManifest, signature: string, key: KeyObject): boolean {
  try {
    return edVerify(null, Buffer.from(canonicalJson(manifest), 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    // A signature of the wrong length or encoding cannot verify.
    return false;
  }
}

function isChainedLine(value: unknown): value is ChainedLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Number.isInteger(v.seq) && typeof v.prev === 'string' && typeof v.hash === 'string' && 'record' in v;
}

function isManifestLine(value: unknown): value is SignedManifestLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const m = v.manifest as Record<string, unknown> | undefined;
  return typeof v.signature === 'string' && typeof m === 'object' && m !== null && m.format === EVIDENCE_FORMAT;
}

/** Public keys from a file's text: a JWKS, one JWK, or an SPKI/PKCS#8 PEM (only the public half is kept). */
export function parseTrustedKeys(text: string, source: string): JWK[] {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{')) {
      const parsed = JSON.parse(trimmed) as { keys?: JWK[] } & JWK;
      const keys = Array.isArray(parsed.keys) ? parsed.keys : [parsed];
      return keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x }));
    }
    const jwk = createPublicKey(trimmed).export({ format: 'jwk' }) as JWK;
    return [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x }];
  } catch {
    throw new AppError('validation_failed', `${source} is not a JWKS, a JWK or a PEM key`, {
      errors: [{ path: 'public-key', message: 'unreadable key' }],
    });
  }
}
