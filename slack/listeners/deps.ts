// What every listener gets: the pieces of the Slack layer, passed in (nothing global).
import type { CountersignConfig } from '../../src/config/schema';
import type { ExecutionStarts } from '../../src/execution-starts';
import type { Logger } from '../../src/logger';
import type { SlackDecisionDeps } from '../decisions';
import type { SlackDirectory } from '../directory';
import type { HomePublisher } from '../home';
import type { SlackRequestGateway } from '../requests';

export interface ListenerDeps {
  config: CountersignConfig;
  logger: Logger;
  gateway: SlackRequestGateway;
  directory: SlackDirectory;
  home: HomePublisher;
  decisions: SlackDecisionDeps;
  temporalUrl: (requestId: string) => string | undefined;
  /** Starts of executions in this process, which an approval's confirmation waits for (slack/app.ts). */
  executionStarts?: ExecutionStarts;
}
