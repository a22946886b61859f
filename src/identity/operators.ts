// Operators: people who decide requests and pull kill switches over the API, each with personal tokens (shown once,
// stored as SHA-256). What an operator does is attributed to the token's owner, never to a name the caller asserts.
// The shared COUNTERSIGN_ADMIN_TOKEN only bootstraps the first operator; after that it opens nothing.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { AppError } from '../errors';
import { generateCredential, generateId, hashCredential, sameSecret, systemClock, type Clock } from './secrets';

/** The prefix of operator tokens. */
export const OPERATOR_TOKEN_PREFIX = 'cs_op';

const OPERATOR_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface Operator {
  id: string;
  name: string;
  createdAt: string;
  createdBy: string;
  disabled: boolean;
}

export interface OperatorTokenInfo {
  id: string;
  operatorId: string;
  label: string;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

/** A new operator token, returned once. */
export interface IssuedOperatorToken {
  operatorId: string;
  tokenId: string;
  token: string;
}

export interface OperatorServiceDeps {
  db: Kysely<Database>;
  clock?: Clock;
  /** When given, operator ids must be people of the config (approvers are matched by person id). */
  people?: ReadonlySet<string>;
}

/** Creates the operator service. */
export function createOperatorService(deps: OperatorServiceDeps) {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;

  async function insertToken(
    trx: Kysely<Database>,
    operatorId: string,
    actor: string,
    label: string,
  ): Promise<IssuedOperatorToken> {
    const token = generateCredential(OPERATOR_TOKEN_PREFIX);
    const tokenId = generateId('optok');
    await trx
      .insertInto('operator_tokens')
      .values({
        id: tokenId,
        operator_id: operatorId,
        token_hash: hashCredential(token),
        label,
        created_at: clock().toISOString(),
        created_by: actor,
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
    return { operatorId, tokenId, token };
  }

  /** `operators create`: registers a person as an operator and issues their first personal token. */
  async function create(input: { id: string; name?: string }, actor: string): Promise<IssuedOperatorToken> {
    if (!OPERATOR_ID.test(input.id)) {
      throw new AppError('validation_failed', 'invalid operator id', {
        errors: [{ path: 'id', message: 'a person id: lowercase letters, digits, ".", "_" and "-"' }],
      });
    }
    if (deps.people && !deps.people.has(input.id)) {
      throw new AppError('validation_failed', `unknown person "${input.id}"`, {
        errors: [{ path: 'id', message: 'must be a person of the config' }],
      });
    }
    return db.transaction().execute(async (trx) => {
      const exists = await trx.selectFrom('operators').select('id').where('id', '=', input.id).executeTakeFirst();
      if (exists) throw new AppError('conflict', `operator "${input.id}" already exists`);
      await trx
        .insertInto('operators')
        .values({
          id: input.id,
          name: input.name ?? input.id,
          created_at: clock().toISOString(),
          created_by: actor,
          disabled_at: null,
        })
        .execute();
      return insertToken(trx, input.id, actor, 'initial');
    });
  }

  return {
    create,
    /** Creates the first operator with the bootstrap admin token; refused once any operator exists. */
    async bootstrap(
      input: { id: string; name?: string },
      presentedAdminToken: string,
      configuredAdminToken: string | undefined,
    ): Promise<IssuedOperatorToken> {
      if (!configuredAdminToken) throw new AppError('forbidden', 'no bootstrap admin token is configured');
      if (!sameSecret(presentedAdminToken, configuredAdminToken))
        throw new AppError('unauthorized', 'invalid admin token');
      const existing = await db
        .selectFrom('operators')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirstOrThrow();
      if (Number(existing.n) > 0) {
        throw new AppError('forbidden', 'operators exist: the admin token bootstraps only the first one');
      }
      return create(input, 'bootstrap');
    },
    /** Issues another personal token (a new device, a rotation). */
    async issueToken(operatorId: string, actor: string, label = 'token'): Promise<IssuedOperatorToken> {
      const op = await db.selectFrom('operators').selectAll().where('id', '=', operatorId).executeTakeFirst();
      if (!op) throw new AppError('not_found', `no operator "${operatorId}"`);
      if (op.disabled_at) throw new AppError('conflict', `operator "${operatorId}" is disabled`);
      return insertToken(db, operatorId, actor, label);
    },
    /** Revokes one token at once. */
    async revokeToken(tokenId: string): Promise<void> {
      const result = await db
        .updateTable('operator_tokens')
        .set({ revoked_at: clock().toISOString() })
        .where('id', '=', tokenId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found', `no live token "${tokenId}"`);
    },
    /** Disables an operator: every token of theirs stops working. */
    async disable(operatorId: string): Promise<void> {
      const result = await db
        .updateTable('operators')
        .set({ disabled_at: clock().toISOString() })
        .where('id', '=', operatorId)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found', `no active operator "${operatorId}"`);
    },
    async list(): Promise<Operator[]> {
      const rows = await db.selectFrom('operators').selectAll().orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        createdAt: r.created_at,
        createdBy: r.created_by,
        disabled: r.disabled_at !== null,
      }));
    },
    async tokens(operatorId: string): Promise<OperatorTokenInfo[]> {
      const rows = await db
        .selectFrom('operator_tokens')
        .selectAll()
        .where('operator_id', '=', operatorId)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        operatorId: r.operator_id,
        label: r.label,
        createdAt: r.created_at,
        createdBy: r.created_by,
        ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
        ...(r.last_used_at ? { lastUsedAt: r.last_used_at } : {}),
      }));
    },
    /** True when the person is a disabled operator (a sign-in through the identity provider is refused too). */
    async isDisabled(operatorId: string): Promise<boolean> {
      const row = await db
        .selectFrom('operators')
        .select('disabled_at')
        .where('id', '=', operatorId)
        .executeTakeFirst();
      return Boolean(row?.disabled_at);
    },
    /** The operator a live token belongs to; undefined for unknown, revoked or disabled. */
    async authenticate(token: string): Promise<Operator | undefined> {
      if (!token.startsWith(`${OPERATOR_TOKEN_PREFIX}_`)) return undefined;
      // A 256-bit random token: finding it by its hash leaks nothing a timing attack could use.
      const row = await db
        .selectFrom('operator_tokens')
        .innerJoin('operators', 'operators.id', 'operator_tokens.operator_id')
        .select([
          'operator_tokens.id as token_id',
          'operator_tokens.revoked_at',
          'operator_tokens.last_used_at',
          'operators.id',
          'operators.name',
          'operators.created_at',
          'operators.created_by',
          'operators.disabled_at',
        ])
        .where('operator_tokens.token_hash', '=', hashCredential(token))
        .executeTakeFirst();
      if (!row || row.revoked_at || row.disabled_at) return undefined;
      const now = clock();
      // Last use to the minute is enough for an audit and spares a write per request.
      if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
        await db
          .updateTable('operator_tokens')
          .set({ last_used_at: now.toISOString() })
          .where('id', '=', row.token_id)
          .execute();
      }
      return { id: row.id, name: row.name, createdAt: row.created_at, createdBy: row.created_by, disabled: false };
    },
  };
}

export type OperatorService = ReturnType<typeof createOperatorService>;
