// Connector activities: one per connector type, registered only on workers that hold that credential domain.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { paramsHash } from '../../src/canonical';
import type { CountersignConfig } from '../../src/config/schema';
import { readEnvironmentVariable } from '../../src/config/settings';
import type { ExecuteActionInput, ExecutionOutcome } from '../../src/contracts/types';
import type { Logger } from '../../src/logger';
import { RECEIPT_HEADER } from '../../src/receipts/claims';
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
  // A started execution already counts toward budgets, so failing to mark how it ended must not fail the action.
  const finish = async (input: ExecuteActionInput, result: 'succeeded' | 'rejected') => {
    try {
      await deps.recorder?.finished(input, result);
    } catch (err) {
      deps.logger.warn(
        { requestId: input.requestId, err: err instanceof Error ? err.message : String(err) },
        'recording the execution result failed',
      );
    }
  };
  return {
    /** Executes an approved action through its connector, at most once downstream (Idempotency-Key: request id). */
    async executeConnectorAction(input: ExecuteActionInput): Promise<ExecutionOutcome> {
      const observe = (outcome: ExecutionAttemptOutcome) =>
        deps.observeExecution?.(input.connector, input.action, outcome);
      try {
        const outcome = await execute(input);
        observe('succeeded');
        return outcome;
      } catch (err) {
        observe(attemptOutcome(err));
        throw err;
      }
    },
  };

  async function execute(input: ExecuteActionInput): Promise<ExecutionOutcome> {
    const action = deps.config.actions[input.action];
    const connector = deps.config.connectors[input.connector];
    if (!action || !connector || action.connector !== input.connector) {
      throw misconfigured(`action ${input.action} is not served by connector ${input.connector}`);
    }
    if (paramsHash(input.params) !== input.paramsHash) {
      throw ApplicationFailure.create({
        type: 'ParamsMismatch',
        message: 'parameters differ from the approved ones',
        nonRetryable: true,
      });
    }
    const credential = connector.credential
      ? await credentials.resolve(connector.credential, input.requestId)
      : undefined;
    const attempt = Context.current().info.attempt;
    const call = action.http
      ? { method: action.http.method, url: renderUrl(action.http.url, input.params).url.toString() }
      : undefined;
    const extraHeaders = deps.callHeaders ? await deps.callHeaders(input, call) : undefined;
    deps.logger.info(
      { requestId: input.requestId, action: input.action, connector: input.connector, attempt },
      'executing action',
    );
    await deps.recorder?.started(input);
    let outcome: ExecutionOutcome;
    try {
      outcome = await executeHttpAction(input, action, connector, credential, {
        fetch: doFetch,
        attempt,
        extraHeaders,
      });
    } catch (err) {
      // Only a definitive refusal un-counts the execution; after a network error it may well have run.
      if (err instanceof ApplicationFailure && err.type === 'DownstreamRejected') await finish(input, 'rejected');
      // The connector's maxAttempts bounds retries of network errors and 5xx; the workflow's retry policy is only
      // the ceiling (the schema's maximum), so the last allowed attempt fails for good.
      if (err instanceof ApplicationFailure && !err.nonRetryable && attempt >= connector.maxAttempts) {
        throw ApplicationFailure.create({
          type: err.type ?? 'DownstreamUnavailable',
          message: `${err.message} (gave up after ${attempt} attempts)`,
          nonRetryable: true,
          details: err.details ?? [],
        });
      }
      throw err;
    }
    await finish(input, 'succeeded');
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

function misconfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ConnectorMisconfigured', message, nonRetryable: true });
}
