// Worker assembly: the control worker (workflows, re-check, notifications) and one worker per connector credential
// domain, each holding only that domain's credentials.
import { existsSync } from 'node:fs';
import {
  NativeConnection,
  Worker,
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { createCheckedExecution } from '../../activities/checked-execution';
import type { RequestSinks } from '../contracts/messages';
import { createConnectorActivities, type ConnectorDeps } from '../../activities/connectors';
import type { TaskQueues } from '../contracts/task-queues';
import { COMPILED } from '../build-info';
import type { CountersignConfig } from '../config/schema';
import { packagePath, PREBUILT_WORKFLOW_BUNDLE } from '../paths';

export {
  colocatedTaskQueues,
  DEFAULT_TASK_QUEUES,
  prefixedTaskQueues,
  type TaskQueues,
} from '../contracts/task-queues';

/** The workflow sources' entry, bundled at worker start when there is no prebuilt bundle. */
export const WORKFLOWS_PATH = packagePath('workflows', 'index.ts');

/**
 * Workflow interceptor modules every bundle of WORKFLOWS_PATH includes: the Temporal cancellation's reason, and the
 * OpenTelemetry interceptors, inert unless a workflow was started with a trace context.
 */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [
  packagePath('workflows', 'cancel-reason.ts'),
  packagePath('workflows', 'tracing.ts'),
];

/** The worker's share of tracing (src/tracing/sdk.ts): activity spans, and the sink workflow spans are exported by. */
export interface WorkerTracing {
  activityInterceptors: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<{ exporter: { export(spans: unknown[]): void } }>;
}

/**
 * Without tracing, workflow spans go nowhere: a workflow started with a trace context by a traced API still finds the
 * sink its interceptors call, on a worker that does not trace.
 */
const UNTRACED_SINKS: WorkerTracing['sinks'] = { exporter: { export: { fn: () => undefined } } };

/** The options that bundle the workflows as the worker runs them (tests and benchmarks prebuild with these). */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: WORKFLOWS_PATH,
  workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES],
};

/**
 * Where a control worker gets its workflow code: the bundle it is given, else in the compiled build the one
 * `npm run build` wrote (dist/workflow-bundle.js), else the sources, bundled now (tsx runs, a few seconds).
 */
export function workflowSource(
  given?: WorkerOptions['workflowBundle'],
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> {
  if (given) return { workflowBundle: given };
  if (COMPILED && existsSync(PREBUILT_WORKFLOW_BUNDLE))
    return { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE } };
  return { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] } };
}

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueues: TaskQueues;
  config: CountersignConfig;
  /** Run the control worker (workflows and control activities). */
  control: boolean;
  /** Connector credential domains this process serves. */
  connectors: readonly string[];
  /**
   * The queues requests started before `taskQueues` colocated the connectors still name (dev mode upgraded in place):
   * their connectors keep a worker there too, so those requests execute.
   */
  legacyConnectorQueues?: TaskQueues;
  activityDeps: ActivityDeps;
  connectorDeps?: Omit<ConnectorDeps, 'config' | 'logger'>;
  /** A prebuilt workflow bundle (tests and benchmarks pass the build's); see workflowSource. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The payload codec's converter (src/temporal/codec.ts): the same one as the process's client. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Tracing, when on (src/tracing/sdk.ts). */
  tracing?: WorkerTracing;
  /** Sticky cache and concurrency overrides. */
  tuning?: Pick<
    WorkerOptions,
    'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'
  >;
}

/** Creates the workers this process runs; call `run()` on each (or `runWorkers`). */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const unknown = options.connectors.filter((c) => !(c in options.config.connectors));
  if (unknown.length > 0) throw new Error(`unknown connector(s): ${unknown.join(', ')}`);
  const workers: Worker[] = [];
  const activityInterceptors = options.tracing?.activityInterceptors;
  // Connectors whose queue is the control queue (single-process mode, colocatedTaskQueues) run in the control worker:
  // their activity is then dispatched eagerly, in the answer to the workflow task that schedules it.
  const colocated = options.control
    ? options.connectors.filter((name) => options.taskQueues.connector(name) === options.taskQueues.control)
    : [];
  if (options.control) {
    const source = workflowSource(options.workflowBundle);
    const control = createActivities(options.activityDeps);
    let connectorActivities = {};
    if (colocated.length > 0) {
      const connector = createConnectorActivities({
        ...options.connectorDeps,
        config: restrictToConnectors(options.config, colocated),
        logger: options.activityDeps.logger.child({ connectors: colocated }),
      });
      connectorActivities = {
        ...connector,
        ...createCheckedExecution({
          recheckBeforeExecution: (input) => control.recheckBeforeExecution(input),
          executeConnectorAction: (input) => connector.executeConnectorAction(input),
        }),
      };
    }
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
        taskQueue: options.taskQueues.control,
        ...source,
        interceptors: { ...source.interceptors, ...(activityInterceptors ? { activity: activityInterceptors } : {}) },
        sinks: { ...(options.tracing?.sinks ?? UNTRACED_SINKS), ...requestSinks(options.activityDeps) },
        activities: { ...control, ...connectorActivities },
        maxCachedWorkflows: options.config.workers.maxCachedWorkflows,
        ...options.tuning,
      }),
    );
  }
  for (const name of options.connectors) {
    const taskQueue = colocated.includes(name)
      ? options.legacyConnectorQueues?.connector(name)
      : options.taskQueues.connector(name);
    if (taskQueue === undefined || taskQueue === options.taskQueues.control) continue;
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
        taskQueue,
        activities: createConnectorActivities({
          ...options.connectorDeps,
          config: restrictToConnectors(options.config, [name]),
          logger: options.activityDeps.logger.child({ connector: name }),
        }),
        ...(activityInterceptors ? { interceptors: { activity: activityInterceptors } } : {}),
        ...options.tuning,
      }),
    );
  }
  return workers;
}

/** Runs workers until they are shut down; rejects if any fails. */
export async function runWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}

/** A config view holding only these connectors' settings, so a domain's worker cannot reach another's credentials. */
function restrictToConnectors(config: CountersignConfig, names: readonly string[]): CountersignConfig {
  return {
    ...config,
    connectors: Object.fromEntries(Object.entries(config.connectors).filter(([name]) => names.includes(name))),
    actions: Object.fromEntries(Object.entries(config.actions).filter(([, a]) => names.includes(a.connector))),
  };
}

/**
 * The sink behind RequestSinks (workflows/action-request-workflow.ts): a request that ended with nothing to notify is
 * counted and logged here instead of in an outcome activity. Sinks never run during replay.
 */
function requestSinks(deps: ActivityDeps): InjectedSinks<RequestSinks> {
  return {
    requests: {
      closed: {
        fn: (_info, state) => {
          deps.observeClosed?.(state);
          deps.notifier.notifyOutcome({ state, refs: [] }).catch((err: unknown) => {
            deps.logger.warn(
              { requestId: state.requestId, err: err instanceof Error ? err.message : String(err) },
              'outcome log failed',
            );
          });
        },
      },
    },
  };
}

export { NativeConnection };
