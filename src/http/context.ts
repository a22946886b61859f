// What a route knows about its caller, set by the authentication middleware, and the checks routes make on it.
import type { Response } from 'express';
import type { AgentRecord } from '../agents';
import { AppError } from '../errors';
import type { Caller } from '../requests';

/** The authenticated caller of this request. */
export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

/** The calling agent; operators are refused (403). */
export function agentOf(res: Response): AgentRecord {
  const caller = callerOf(res);
  if (caller.kind !== 'agent') throw new AppError('forbidden', 'only agents submit action requests');
  return caller.agent;
}

/** The calling operator's person id; agents are refused (403). */
export function operatorOf(res: Response, what = 'this'): string {
  const caller = callerOf(res);
  if (caller.kind !== 'operator') throw new AppError('forbidden', `${what} needs a personal operator token`);
  return caller.id;
}

/** How an operator's changes are attributed in change logs and records. */
export function operatorActor(operatorId: string): string {
  return `operator:${operatorId}`;
}
