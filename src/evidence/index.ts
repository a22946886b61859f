// Evidence export: every request of a time range as a record an auditor can take away, in JSONL (hash-chained,
// signed manifest), CSV or OCSF; and the verification of a JSONL export.
import { createPublicKey } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { JWK } from 'jose';
import type { ActionCatalog } from '../catalog';
import { AppError } from '../errors';
import { writeEvidenceJsonl, type EvidenceSigningKey } from './chain';
import { evidenceCsv, evidenceOcsf } from './formats';
import { buildEvidenceRecord, type EvidenceRecord } from './record';
import { readRecordedRequests, type RecordedRequestFilter } from './source';

export * from './chain';
export * from './formats';
export * from './record';
export * from './source';

export const EVIDENCE_FORMATS = ['jsonl', 'csv', 'ocsf'] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

export interface ExportOptions {
  format: EvidenceFormat;
  /** Signs the JSONL manifest; required for jsonl. */
  key?: EvidenceSigningKey;
  /** Knows which parameters are secret; without it every parameter value is withheld. */
  catalog?: ActionCatalog;
  now?: Date;
}

/** Reads the range's requests from Temporal and renders them; resolves with the text and the record count. */
export async function exportEvidence(
  client: Client,
  filter: RecordedRequestFilter,
  options: ExportOptions,
): Promise<{ text: string; records: EvidenceRecord[] }> {
  const recorded = await readRecordedRequests(client, filter);
  const records = recorded.map((r) => buildEvidenceRecord(r, options.catalog));
  return { text: renderEvidence(records, filter, options), records };
}

/** Renders records in a format. */
export function renderEvidence(
  records: readonly EvidenceRecord[],
  filter: Pick<RecordedRequestFilter, 'from' | 'to' | 'agent' | 'action'>,
  options: ExportOptions,
): string {
  switch (options.format) {
    case 'csv':
      return evidenceCsv(records);
    case 'ocsf':
      return evidenceOcsf(records);
    case 'jsonl': {
      if (!options.key) throw new AppError('config_invalid', 'a JSONL export needs a signing key');
      return writeEvidenceJsonl(records, {
        key: options.key,
        range: { from: filter.from, to: filter.to },
        filter: {
          ...(filter.agent ? { agent: filter.agent } : {}),
          ...(filter.action ? { action: filter.action } : {}),
        },
        ...(options.now ? { now: options.now } : {}),
      });
    }
  }
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
