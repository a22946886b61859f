// Sealed secret parameters: a value an action's schema marks secret never enters Temporal. At submit it is sealed here
// (envelope-encrypted under the vault's master key, bound to its request, submit and JSON path) and the workflow's
// parameters carry a reference in its place, `{ "$sealed": "<seal id>" }`. The re-check and the connector activity open
// the references in memory; the request's end erases the rows. Apart from the vault's connector secrets (src/vault/vault.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { AppError } from '../errors';
import { openSecret, sealSecret, type SecretBinding } from './envelope';
import type { MasterKeyring } from './master-key';

/** The member name of a reference; an object with only this member stands for a sealed value. */
export const SEALED_REF_KEY = '$sealed';

/** What stands in the workflow's parameters for a sealed value. */
export interface SealedRef {
  [SEALED_REF_KEY]: string;
}

/** A step into a value: an object member's name or an array index. */
export type ValuePath = readonly (string | number)[];

/** One value to seal: its place in the parameters and the value itself (any JSON). */
export interface SealedEntry {
  path: ValuePath;
  value: unknown;
}

export type SealedParamTables = {
  sealed_params: {
    request_id: string;
    seal_id: string;
    /** JSON Pointer (RFC 6901) of the value in the parameters. */
    path: string;
    key_id: string;
    wrapped_key: string;
    ciphertext: string;
    created_at: string;
    /** Erased by this time whatever became of the request (a terminated workflow never reports its end). */
    expires_at: string;
  };
};

/** The reference for a seal id. */
export function sealedRef(sealId: string): SealedRef {
  return { [SEALED_REF_KEY]: sealId };
}

/** True for a reference: an object whose only member is `$sealed` with a string. */
export function isSealedRef(value: unknown): value is SealedRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === SEALED_REF_KEY && typeof (value as SealedRef)[SEALED_REF_KEY] === 'string';
}

/** Every reference in `params`, with where it sits. */
export function findSealedRefs(params: unknown): { path: ValuePath; sealId: string }[] {
  const found: { path: ValuePath; sealId: string }[] = [];
  const stack: { value: unknown; path: ValuePath }[] = [{ value: params, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: ValuePath };
    if (isSealedRef(value)) found.push({ path, sealId: value[SEALED_REF_KEY] });
    else if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: [...path, k] });
    }
  }
  return found;
}

/** The JSON Pointer of a path. */
export function pointerOf(path: ValuePath): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The parameters with the references opened, and the opened values (to keep them out of anything recorded). */
export interface OpenedParams {
  params: Record<string, unknown>;
  values: unknown[];
}

/** The sealed parameters store. */
export interface SealedParams {
  /** False without a master key: nothing can be sealed or opened. */
  readonly unlocked: boolean;
  /** Seals the values of one submit; `expiresAt` is the absolute time by which they are erased. */
  put(requestId: string, sealId: string, entries: readonly SealedEntry[], expiresAt: Date): Promise<void>;
  /**
   * Opens every reference in `params` (in memory, for the caller only). A reference whose value is gone (erased,
   * expired) or fails its integrity check is an AppError; a database that does not answer is any other error.
   */
  open(requestId: string, params: Record<string, unknown>): Promise<OpenedParams>;
  /** Erases the values of a submit whose workflow did not start (a retried submit found the request already there). */
  discard(requestId: string, sealId: string): Promise<void>;
  /** The request reached its terminal state: erased now, or `retentionMs` from now. Returns the rows erased now. */
  ended(requestId: string, retentionMs: number): Promise<number>;
  /** Erases every row past its expiry; returns how many. */
  sweep(): Promise<number>;
  /** How many values are sealed for a request (operators' checks and tests; never the values). */
  count(requestId: string): Promise<number>;
}

/** The store over the Countersign database; without a keyring it is locked. */
export function createSealedParams(deps: {
  db: Kysely<Database>;
  keyring?: MasterKeyring;
  now?: () => Date;
}): SealedParams {
  const db = deps.db.withTables<SealedParamTables>();
  const now = deps.now ?? (() => new Date());
  const binding = (requestId: string, sealId: string, path: string): SecretBinding => ({
    secretId: `sealed-param/${requestId}/${sealId}${path}`,
    version: 1,
  });
  const keyring = (): MasterKeyring => {
    if (!deps.keyring) {
      throw new AppError('not_ready', 'secret parameters cannot be sealed or opened: the vault is locked', {
        errors: [
          { path: 'COUNTERSIGN_MASTER_KEY', message: 'set COUNTERSIGN_MASTER_KEY or COUNTERSIGN_MASTER_KEY_FILE' },
        ],
      });
    }
    return deps.keyring;
  };

  return {
    unlocked: Boolean(deps.keyring),
    async put(requestId, sealId, entries, expiresAt) {
      if (entries.length === 0) return;
      const master = keyring().current;
      const at = now().toISOString();
      const rows = entries.map((e) => {
        const path = pointerOf(e.path);
        const sealed = sealSecret(JSON.stringify(e.value), binding(requestId, sealId, path), master);
        return {
          request_id: requestId,
          seal_id: sealId,
          path,
          key_id: sealed.keyId,
          wrapped_key: sealed.wrappedKey,
          ciphertext: sealed.ciphertext,
          created_at: at,
          expires_at: expiresAt.toISOString(),
        };
      });
      await db.insertInto('sealed_params').values(rows).execute();
    },
    async open(requestId, params) {
      const refs = findSealedRefs(params);
      if (refs.length === 0) return { params, values: [] };
      const ring = keyring();
      const sealIds = [...new Set(refs.map((r) => r.sealId))];
      const rows = await db
        .selectFrom('sealed_params')
        .selectAll()
        .where('request_id', '=', requestId)
        .where('seal_id', 'in', sealIds)
        .execute();
      const byKey = new Map(rows.map((r) => [`${r.seal_id}\u0000${r.path}`, r]));
      let opened: unknown = params;
      const values: unknown[] = [];
      for (const ref of refs) {
        const path = pointerOf(ref.path);
        const row = byKey.get(`${ref.sealId}\u0000${path}`);
        if (!row || row.expires_at <= now().toISOString()) {
          throw new AppError('not_found', `the secret parameter at ${path} is no longer held (erased or expired)`);
        }
        const value = JSON.parse(
          openSecret(
            { keyId: row.key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
            binding(requestId, ref.sealId, path),
            ring,
          ),
        ) as unknown;
        values.push(value);
        opened = replaceAt(opened, ref.path, value);
      }
      return { params: opened as Record<string, unknown>, values };
    },
    async discard(requestId, sealId) {
      await db.deleteFrom('sealed_params').where('request_id', '=', requestId).where('seal_id', '=', sealId).execute();
    },
    async ended(requestId, retentionMs) {
      if (retentionMs <= 0) {
        const result = await db.deleteFrom('sealed_params').where('request_id', '=', requestId).executeTakeFirst();
        return Number(result.numDeletedRows);
      }
      const until = new Date(now().getTime() + retentionMs).toISOString();
      await db
        .updateTable('sealed_params')
        .set({ expires_at: until })
        .where('request_id', '=', requestId)
        .where('expires_at', '>', until)
        .execute();
      return 0;
    },
    async sweep() {
      const result = await db
        .deleteFrom('sealed_params')
        .where('expires_at', '<=', now().toISOString())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async count(requestId) {
      const row = await db
        .selectFrom('sealed_params')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('request_id', '=', requestId)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}

/** A copy of `root` with the value at `path` replaced. */
function replaceAt(root: unknown, path: ValuePath, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root) && typeof head === 'number') {
    const copy: unknown[] = [...(root as unknown[])];
    copy[head] = replaceAt(copy[head], rest, value);
    return copy;
  }
  if (typeof root === 'object' && root !== null && head !== undefined) {
    const copy = { ...(root as Record<string, unknown>) };
    copy[String(head)] = replaceAt(copy[String(head)], rest, value);
    return copy;
  }
  return root;
}
