// Connector activities: one per connector type, registered only on workers that hold that credential domain.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { paramsHash } from '../../src/canonical';
import type { CountersignConfig } from '../../src/config/schema';
import { readEnvironmentVariable } from '../../src/config/settings';
import { executionRunningSignal } from '../../src/contracts/messages';
import type { ExecuteActionInput, ExecutionOutcome } from '../../src/contracts/types';
import type { ExecutionStarts } from '../../src/execution-starts';
import type { AttemptOutcome, ExecutionLedger } from '../../src/ledger';
import type { Logger } from '../../src/logger';
import { RECEIPT_HEADER } from '../../src/receipts/claims';
import { AppError } from '../../src/errors';
import { findSealedRefs, type OpenedParams, type SealedParams } from '../../src/vault/sealed-params';
import { executeHttpAction, renderUrl } from './http';

/** Resolves a connector credential reference to its value, inside the executing activity only. */
export interface CredentialResolver {
  resolve(ref: { env: string } | { file: string } | { secret: string }, requestId: string): Promise<string>;
}

/** The downstream call an execution makes, for headers bound to it. */
export interface ConnectorCall {
  method: string;
  url: string;
}

/** Records executions, so usage budgets count what actually ran. */
export interface ExecutionRecorder {
  /** Before the downstream call; a failure here stops the call (budgets must never under-count). Idempotent. */
  started(input: ExecuteActionInput): Promise<void>;
  /** After it: `succeeded`, or `rejected` when the downstream refused it for good. */
  finished(input: ExecuteActionInput, result: 'succeeded' | 'rejected'): Promise<void>;
}

export interface ConnectorDeps {
  config: CountersignConfig;
  logger: Logger;
  credentials?: CredentialResolver;
  fetch?: typeof fetch;
  /** Extra headers for a call (an approval receipt, say). */
  callHeaders?: (input: ExecuteActionInput, call?: ConnectorCall) => Promise<Record<string, string>>;
  recorder?: ExecutionRecorder;
  /** Told how each attempt ended (the executions metric). */
  observeExecution?: (connector: string, action: string, outcome: ExecutionAttemptOutcome) => void;
  /** Attempts and outcomes of downstream calls (src/ledger); without it a connector with `idempotency: none` is never retried. */
  ledger?: ExecutionLedger;
  /** Told of every request whose execution ended with outcome unknown (the alert metric). */
  onOutcomeUnknown?: (input: ExecuteActionInput) => void;
  /** Secret parameters sealed at submit, opened here in memory just before the downstream call. */
  sealedParams?: SealedParams;
  /** Told as the connector's activity starts, for in-process work that gives way to it (src/execution-starts.ts). */
  executionStarts?: Pick<ExecutionStarts, 'started'>;
  /** The clock. */
  now?: () => number;
}

/** How one attempt ended; `unknown`: the last allowed attempt may have reached the downstream. */
export type ExecutionAttemptOutcome = 'succeeded' | 'rejected' | 'failed' | 'retrying' | 'unknown';

/** The default resolver: environment variables and files. Vault references need the vault. */
export function createCredentialResolver(): CredentialResolver {
  return {
    async resolve(ref) {
      if ('env' in ref) {
        const value = readEnvironmentVariable(ref.env);
        if (!value) throw misconfigured(`credential environment variable ${ref.env} is not set`);
        return value;
      }
      if ('file' in ref) {
        try {
          return (await readFile(ref.file, 'utf8')).trim();
        } catch {
          throw misconfigured(`credential file ${ref.file} cannot be read`);
        }
      }
      throw misconfigured(`vault secret ${ref.secret} needs the credential vault`);
    },
  };
}

/** Connector activities; the worker registers them on the connector's own task queue. */
export function createConnectorActivities(deps: ConnectorDeps) {
  const credentials = deps.credentials ?? createCredentialResolver();
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const ledger = deps.ledger;
  // A started execution already counts toward budgets, so failing to mark how it ended must not fail the action.
  const finish = async (input: ExecuteActionInput, result: 'succeeded' | 'rejected', until: number) => {
    if (!deps.recorder) return;
    const written = deps.recorder.finished(input, result).catch((err: unknown) => {
      deps.logger.warn({ requestId: input.requestId, err: errorText(err) }, 'recording the execution result failed');
    });
    await settledBy(written, until, now);
  };
  // The outcome is known to this activity (and reaches the history through its result); a ledger that cannot take it
  // right now is logged, not fatal. A later attempt would then find the row open and, without keys, not re-send.
  const settle = async (
    input: ExecuteActionInput,
    attempt: number,
    outcome: AttemptOutcome,
    detail: { httpStatus?: number; summary?: string },
    until: number,
  ) => {
    if (!ledger) return;
    // A locked database must not hold the answer past the attempt's timeout: Temporal would then run the attempt
    // again. The write keeps going in the background (and a later attempt's read queues behind it).
    const written = ledger.finish(input.requestId, attempt, outcome, detail).catch((err: unknown) => {
      deps.logger.warn(
        { requestId: input.requestId, attempt, outcome, err: errorText(err) },
        'ledger outcome not recorded',
      );
    });
    await settledBy(written, until, now);
  };
  /** Ends the request without another call: the last one may have arrived, and the downstream would act on it twice. */
  const concludeUnknown = async (
    input: ExecuteActionInput,
    attempt: number,
    why: string,
    recordAttempt: boolean,
  ): Promise<ExecutionOutcome> => {
    if (ledger) {
      try {
        if (recordAttempt) {
          await ledger.begin({ requestId: input.requestId, attempt, connector: input.connector, action: input.action });
        }
        await ledger.finish(input.requestId, attempt, 'unknown', { summary: why });
      } catch (err) {
        // Nothing was sent in this attempt; the next one reaches the same verdict once the ledger answers.
        throw ledgerUnavailable(err);
      }
    }
    deps.logger.error(
      {
        requestId: input.requestId,
        action: input.action,
        connector: input.connector,
        attempt,
        alert: 'execution_outcome_unknown',
      },
      'execution outcome unknown: the downstream may have acted; not re-sent, reconcile by hand',
    );
    deps.onOutcomeUnknown?.(input);
    return { ok: false, unknown: true, summary: `Outcome unknown: ${why}; not re-sent`, attempts: attempt };
  };

  return {
    /**
     * Executes an approved action through its connector, at most once downstream: the ledger records every attempt
     * before it is sent, and a connector whose downstream ignores Idempotency-Key never gets a call that may have
     * arrived sent again.
     */
    async executeConnectorAction(input: ExecuteActionInput): Promise<ExecutionOutcome> {
      deps.executionStarts?.started(input.requestId);
      const observe = (outcome: ExecutionAttemptOutcome) =>
        deps.observeExecution?.(input.connector, input.action, outcome);
      const runningNotice = tellWhenStillRunning(input);
      try {
        const outcome = await execute(input);
        observe(outcome.unknown ? 'unknown' : 'succeeded');
        return outcome;
      } catch (err) {
        observe(attemptOutcome(err));
        throw err;
      } finally {
        clearTimeout(runningNotice);
      }
    },
  };

  /**
   * Signals the workflow once the call has run `runningNoticeAfterMs`: approvers then hear it is executing, without a
   * timer in the workflow task that started it. A lost signal only leaves that notice out.
   */
  function tellWhenStillRunning(input: ExecuteActionInput): NodeJS.Timeout | undefined {
    if (input.runningNoticeAfterMs === undefined) return undefined;
    const { client, info } = Context.current();
    const execution = info.workflowExecution;
    if (!execution) return undefined;
    const { workflowId, runId } = execution;
    return setTimeout(() => {
      client.workflow
        .getHandle(workflowId, runId)
        .signal(executionRunningSignal)
        .catch((err: unknown) => {
          deps.logger.warn({ requestId: input.requestId, err: errorText(err) }, 'running notice not signalled');
        });
    }, input.runningNoticeAfterMs);
  }

  /** Opens the request's sealed parameters; a value gone or not openable fails for good, a silent database retries. */
  async function openSealed(input: ExecuteActionInput): Promise<OpenedParams> {
    if (findSealedRefs(input.params).length === 0) return { params: input.params, values: [] };
    if (!deps.sealedParams) throw secretsUnavailable('sealed secret parameters cannot be opened by this worker', true);
    try {
      return await deps.sealedParams.open(input.requestId, input.params);
    } catch (err) {
      if (err instanceof AppError) throw secretsUnavailable(err.message, true);
      throw secretsUnavailable(`sealed store unavailable (nothing sent): ${errorText(err)}`, false);
    }
  }

  async function execute(input: ExecuteActionInput): Promise<ExecutionOutcome> {
    const action = deps.config.actions[input.action];
    const connector = deps.config.connectors[input.connector];
    if (!action || !connector || action.connector !== input.connector) {
      throw misconfigured(`action ${input.action} is not served by connector ${input.connector}`);
    }
    // The real values of sealed parameters, for the hash and the call only: never logged, recorded or returned.
    const opened = await openSealed(input);
    if (paramsHash(opened.params) !== input.paramsHash) {
      throw ApplicationFailure.create({
        type: 'ParamsMismatch',
        message: 'parameters differ from the approved ones',
        nonRetryable: true,
      });
    }
    const info = Context.current().info;
    const attempt = info.attempt;
    const enteredAt = now();
    // Temporal starts another attempt once this one's start-to-close timeout passes, even while this code still
    // runs (a locked database, say). So nothing is sent unless its answer can be back in time, and the outcome is
    // reported before that timeout whatever the database does.
    const attemptEnds = enteredAt + info.startToCloseTimeoutMs - START_SLACK_MS;
    const sendBy = attemptEnds - connector.timeout - START_SLACK_MS;
    const reportBy = attemptEnds - START_SLACK_MS / 2;
    const prior = ledger ? await readLedger(() => ledger.attempts(input.requestId)) : [];
    const earlier = prior.filter((a) => a.attempt !== attempt);
    // An attempt that succeeded, or already concluded unknown, before its activity could report back.
    const succeeded = earlier.find((a) => a.outcome === 'succeeded');
    if (succeeded) {
      return {
        ok: true,
        ...(succeeded.httpStatus !== null ? { status: succeeded.httpStatus } : {}),
        summary: succeeded.summary ?? 'succeeded',
        attempts: succeeded.attempt,
      };
    }
    const concluded = earlier.find((a) => a.outcome === 'unknown');
    if (concluded)
      return concludeUnknown(
        input,
        concluded.attempt,
        concluded.summary ?? 'an earlier attempt may have arrived',
        false,
      );
    if (connector.idempotency === 'none') {
      // Without a ledger there is no telling a refused connection from a lost answer: every retry is suspect.
      const suspect = ledger
        ? earlier.find((a) => a.outcome === null || a.outcome === 'maybe_sent')
        : attempt > 1
          ? { attempt: attempt - 1 }
          : undefined;
      if (suspect) {
        return concludeUnknown(input, attempt, `attempt ${suspect.attempt} may have reached the downstream`, true);
      }
    }
    // Calls actually sent so far: attempts refused before sending do not use up the connector's maxAttempts.
    const sentBefore = ledger ? earlier.filter((a) => a.outcome !== 'not_sent').length : attempt - 1;

    const credential = connector.credential
      ? await credentials.resolve(connector.credential, input.requestId)
      : undefined;
    const call = action.http
      ? { method: action.http.method, url: renderUrl(action.http.url, opened.params).url.toString() }
      : undefined;
    const extraHeaders = deps.callHeaders ? await deps.callHeaders(input, call) : undefined;
    deps.logger.info(
      { requestId: input.requestId, action: input.action, connector: input.connector, attempt },
      'executing action',
    );
    await deps.recorder?.started(input);
    if (now() > sendBy) throw attemptExpired();
    if (ledger) {
      try {
        await ledger.begin({ requestId: input.requestId, attempt, connector: input.connector, action: input.action });
      } catch (err) {
        throw ledgerUnavailable(err);
      }
      if (now() > sendBy) {
        await settle(input, attempt, 'not_sent', { summary: 'attempt ran out of time before sending' }, reportBy);
        throw attemptExpired();
      }
    }
    let outcome: ExecutionOutcome;
    try {
      outcome = await executeHttpAction({ ...input, params: opened.params }, action, connector, credential, {
        fetch: doFetch,
        attempt,
        extraHeaders,
        now,
        secrets: hiddenTexts(opened.values),
      });
    } catch (err) {
      if (!(err instanceof ApplicationFailure)) throw err;
      const status = typeof err.details?.[0] === 'number' ? err.details[0] : undefined;
      const detail = { ...(status !== undefined ? { httpStatus: status } : {}), summary: err.message };
      switch (err.type) {
        case 'DownstreamRejected':
          await settle(input, attempt, 'rejected', detail, reportBy);
          // Only a definitive refusal un-counts the execution; after a network error it may well have run.
          await finish(input, 'rejected', reportBy);
          throw err;
        case 'DownstreamUnreachable':
          await settle(input, attempt, 'not_sent', detail, reportBy);
          throw giveUpAfter(err, attempt, connector.maxAttempts);
        case 'DownstreamBusy': {
          await settle(input, attempt, 'retry_later', detail, reportBy);
          throw retryLater(err, sentBefore + 1, connector.maxAttempts, info, now());
        }
        case 'DownstreamTimeout':
          if (connector.idempotency === 'none') {
            return concludeUnknown(input, attempt, `attempt ${attempt}: ${err.message}`, false);
          }
          await settle(input, attempt, 'maybe_sent', detail, reportBy);
          throw giveUpAfter(err, sentBefore + 1, connector.maxAttempts);
        case 'DownstreamUnavailable':
          await settle(input, attempt, 'failed', detail, reportBy);
          // It answered, so it got the call; what it did is its own business, and without keys it is not asked again.
          if (connector.idempotency === 'none')
            throw finalFailure(err, `${err.message} (not retried: no idempotency keys)`);
          throw giveUpAfter(err, sentBefore + 1, connector.maxAttempts);
        default:
          await settle(input, attempt, 'failed', detail, reportBy);
          throw err;
      }
    }
    await settle(
      input,
      attempt,
      'succeeded',
      {
        ...(outcome.status !== undefined ? { httpStatus: outcome.status } : {}),
        summary: outcome.summary,
      },
      reportBy,
    );
    await finish(input, 'succeeded', reportBy);
    const receiptId = receiptIdOf(extraHeaders);
    if (receiptId) outcome = { ...outcome, receiptId };
    deps.logger.info({ requestId: input.requestId, action: input.action, status: outcome.status }, 'action executed');
    return outcome;
  }
}

/** Classifies a failed attempt for the executions metric. */
function attemptOutcome(err: unknown): ExecutionAttemptOutcome {
  if (!(err instanceof ApplicationFailure)) return 'retrying';
  if (err.type === 'DownstreamRejected') return 'rejected';
  if (!err.nonRetryable) return 'retrying';
  if (err.type === 'DownstreamUnavailable') {
    // Gave up: after a 5xx the downstream answered and refused; after a network error or timeout nobody knows.
    const [status] = err.details ?? [];
    return typeof status === 'number' ? 'failed' : 'unknown';
  }
  return 'failed';
}

/** The `jti` of the approval receipt among a call's headers: the evidence trail names the receipt that was shown. */
function receiptIdOf(headers: Record<string, string> | undefined): string | undefined {
  const receipt = headers?.[RECEIPT_HEADER];
  if (!receipt) return undefined;
  try {
    const { jti } = decodeJwt(receipt);
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    // Not a JWT: a header some other callHeaders hook set under that name; there is no receipt id to record.
    return undefined;
  }
}

/** The texts of opened secret values (each string, number and its URL and JSON forms), kept out of outcomes. */
function hiddenTexts(values: readonly unknown[]): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') {
      const text = String(v);
      out.add(text);
      out.add(encodeURIComponent(text));
      out.add(JSON.stringify(text).slice(1, -1));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  values.forEach(walk);
  return [...out];
}

function secretsUnavailable(message: string, nonRetryable: boolean): ApplicationFailure {
  return ApplicationFailure.create({ type: 'SecretParamsUnavailable', message, nonRetryable });
}

/** Margin kept between this worker's clock and the server's start-to-close timer. */
const START_SLACK_MS = 1_000;

/** Waits for `work` until `until` (epoch ms) at the latest; the work itself goes on. */
async function settledBy(work: Promise<void>, until: number, now: () => number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, until - now()));
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Too late to send and still answer within the attempt's timeout: nothing was sent, the next attempt may. */
function attemptExpired(): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'AttemptExpired',
    message: 'the attempt ran out of time before sending (database slow or locked); nothing sent',
    nonRetryable: false,
  });
}

async function readLedger<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw ledgerUnavailable(err);
  }
}

/** The ledger could not be read or written: nothing was sent, so the attempt is retried. */
function ledgerUnavailable(err: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'LedgerUnavailable',
    message: `execution ledger unavailable (nothing sent): ${errorText(err)}`,
    nonRetryable: false,
  });
}

// The connector's maxAttempts bounds retries; the workflow's retry policy is only the ceiling (the schema's maximum),
// so the last allowed attempt fails for good.
function giveUpAfter(err: ApplicationFailure, attempts: number, maxAttempts: number): ApplicationFailure {
  if (attempts < maxAttempts) return err;
  return finalFailure(err, `${err.message} (gave up after ${attempts} attempts)`);
}

function finalFailure(err: ApplicationFailure, message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: err.type ?? 'DownstreamUnavailable',
    message,
    nonRetryable: true,
    details: err.details ?? [],
  });
}

/** A 429/503: retried after its Retry-After, unless that falls past the execution's time budget (schedule-to-close). */
function retryLater(
  err: ApplicationFailure,
  attempts: number,
  maxAttempts: number,
  info: { scheduledTimestampMs: number; scheduleToCloseTimeoutMs: number },
  nowMs: number,
): ApplicationFailure {
  const retryAfterMs = typeof err.details?.[1] === 'number' ? err.details[1] : undefined;
  if (attempts >= maxAttempts) return finalFailure(err, `${err.message} (gave up after ${attempts} attempts)`);
  if (retryAfterMs === undefined) return err;
  const budgetEnds =
    info.scheduleToCloseTimeoutMs > 0 ? info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs : Infinity;
  if (nowMs + retryAfterMs >= budgetEnds) {
    return finalFailure(
      err,
      `${err.message} (Retry-After ${Math.ceil(retryAfterMs / 1000)} s is past the time budget)`,
    );
  }
  return ApplicationFailure.create({
    type: err.type ?? 'DownstreamBusy',
    message: err.message,
    nonRetryable: false,
    details: err.details ?? [],
    nextRetryDelay: Math.max(retryAfterMs, 1),
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function misconfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ConnectorMisconfigured', message, nonRetryable: true });
}
