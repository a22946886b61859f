// Everything Countersign put into a Slack payload comes back from the outside: it is parsed with zod, never trusted.
import { z } from 'zod';
import type { DecisionButtonValue } from './blocks/ids';
import type { RejectModalMetadata } from './blocks/reject-modal';

const requestId = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/);
const paramsHash = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const slackId = z.string().regex(/^[A-Z0-9]{2,30}$/);
const ts = z.string().regex(/^\d{1,12}\.\d{1,8}$/);

const buttonValueSchema = z.object({ r: requestId, h: paramsHash }).strict();
const modalMetadataSchema = z.object({ r: requestId, h: paramsHash, c: slackId.optional(), t: ts.optional() }).strict();

/** Parses a decision button's value; undefined when it is not one of ours. */
export function parseButtonValue(value: string | undefined): DecisionButtonValue | undefined {
  return parseJson(value, buttonValueSchema);
}

/** Parses the reject modal's private metadata; undefined when it is not one of ours. */
export function parseModalMetadata(value: string | undefined): RejectModalMetadata | undefined {
  return parseJson(value, modalMetadataSchema);
}

/** A request id typed by a person (slash command); undefined when it cannot be one. */
export function parseRequestId(value: string | undefined): string | undefined {
  const parsed = requestId.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function parseJson<T>(value: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (!value || value.length > 3000) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    // Not JSON, so not a value Countersign wrote.
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
