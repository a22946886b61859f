// Secret parameters at submit: every value the action's schema marks secret (`writeOnly` / `x-secret`, found by the
// same walk that withholds them in Slack) is taken out of the parameters before the workflow starts, sealed in the
// database, and replaced by a reference. The params hash is computed before, over the real values.
import { randomUUID } from 'node:crypto';
import { replaceSecretValues, type ParamPath } from '../../slack/blocks/params';
import { expiresAtOf } from '../contracts/lifecycle';
import type { ActionRequestInput } from '../contracts/types';
import { AppError, type FieldIssue } from '../errors';
import { findSealedRefs, sealedRef, type SealedEntry, type SealedParams } from '../vault/sealed-params';

/** The connector activity's time budget (its schedule-to-close timeout in the workflow). */
const EXECUTION_BUDGET_MS = 10 * 60_000;

/** A request's parameters split into what Temporal may hold and what is sealed instead. */
export interface SeparatedParams {
  /** The parameters with references where secret values were. */
  params: Record<string, unknown>;
  sealId: string;
  entries: SealedEntry[];
}

/** Splits the secret values out of `params` (validated against `schema` already). */
export function separateSecrets(params: Record<string, unknown>, schema: unknown): SeparatedParams {
  const sealId = `sp_${randomUUID()}`;
  const entries: SealedEntry[] = [];
  // Values under a schema the walk cannot follow are sealed too: like Slack, it errs toward withholding.
  const replaced = replaceSecretValues(params, schema, (value, path) => {
    entries.push({ path: [...path], value });
    return sealedRef(sealId);
  }) as Record<string, unknown>;
  return { params: replaced, sealId, entries };
}

/** A submit may not carry something shaped like a reference: it would stand for a value it never sealed. */
export function refuseReferenceShapes(params: Record<string, unknown>): void {
  const found = findSealedRefs(params);
  if (found.length === 0) return;
  throw new AppError('invalid_params', 'parameters contain a reserved shape', {
    errors: found.map((f) => ({ path: fieldPath(f.path), message: 'an object with only "$sealed" is reserved' })),
  });
}

/**
 * Seals the secret values of a request being submitted and returns its workflow input with references instead; the
 * input is returned as it is when there is nothing secret. Fails closed (503, naming the fields) when there is no
 * store, the vault is locked or the database does not answer: nothing is started then.
 */
export async function sealSecrets(
  store: SealedParams | undefined,
  input: ActionRequestInput,
  schema: unknown,
  graceMs: number,
): Promise<{ input: ActionRequestInput; sealId?: string }> {
  const separated = separateSecrets(input.params, schema);
  if (separated.entries.length === 0) return { input };
  const fields: FieldIssue[] = separated.entries.map((e) => ({
    path: fieldPath(e.path),
    message: 'a secret parameter, kept out of Temporal in the sealed store',
  }));
  if (!store?.unlocked) {
    throw new AppError(
      'not_ready',
      store
        ? 'secret parameters cannot be accepted: the vault is locked (no master key)'
        : 'secret parameters cannot be accepted: this deployment has no sealed store (database)',
      { errors: fields },
    );
  }
  const deadline = Date.parse(expiresAtOf(input) ?? input.submittedAt);
  const expiresAt = new Date(deadline + (input.recheckWindowMs ?? 0) + EXECUTION_BUDGET_MS + graceMs);
  try {
    await store.put(input.requestId, separated.sealId, separated.entries, expiresAt);
  } catch (err) {
    throw new AppError('not_ready', 'secret parameters cannot be sealed right now (database unavailable)', {
      errors: fields,
      cause: err,
      headers: { 'Retry-After': '5' },
    });
  }
  return { input: { ...input, params: separated.params, sealed: true }, sealId: separated.sealId };
}

/** `params.card.cvc`, `params.items[0]`: a path as submit errors name it. */
export function fieldPath(path: readonly (string | number)[] | ParamPath): string {
  return `params${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}
