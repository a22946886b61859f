// Evidence export: every request of a time range as a record an auditor can take away, in JSONL (hash-chained,
// signed manifest), CSV or OCSF; and the verification of a JSONL export.
import type { Client } from '../temporal/adapter';
import type { ActionCatalog } from '../catalog';
import { AppError } from '../errors';
import { writeEvidenceJsonl, type EvidenceSigningKey } from './chain';
import { evidenceCsv, evidenceOcsf, type EvidenceFormat } from './formats';
import { buildEvidenceRecord, type EvidenceRecord } from './record';
import { readRecordedRequests, type RecordedRequestFilter } from '../temporal/adapter';

export * from './chain';
export * from './formats';
export * from './record';
export {
  readRecordedRequests,
  recordedRequestsQuery,
  type RecordedRequest,
  type RecordedRequestFilter,
} from '../temporal/adapter';

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
