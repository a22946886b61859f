// Task queue names, with no runtime dependency: the CLI's command tree imports them at start-up, and loading the
// Temporal SDK there would cost every `countersign` call its start-up time. Workflow-safe.

/** The task queue the action request workflows and control activities run on. */
export const CONTROL_TASK_QUEUE = 'countersign';

/** The task queue for one connector credential domain: only workers holding that domain poll it. */
export function connectorTaskQueue(connector: string): string {
  return `countersign-connector-${connector}`;
}

/** Task queue names; tests give each suite its own prefix. */
export interface TaskQueues {
  control: string;
  connector(name: string): string;
}

/** The production task queues. */
export const DEFAULT_TASK_QUEUES: TaskQueues = { control: CONTROL_TASK_QUEUE, connector: connectorTaskQueue };

/** Task queues with a prefix, so several deployments (or test suites) share one namespace. */
export function prefixedTaskQueues(prefix: string): TaskQueues {
  return { control: `${prefix}-${CONTROL_TASK_QUEUE}`, connector: (name) => `${prefix}-${connectorTaskQueue(name)}` };
}

/**
 * Task queues for one process that serves the workflows and every connector (dev mode): each connector's activity runs
 * on the control queue, so the worker that schedules it is handed it eagerly, without a poll. Workers holding split
 * credential domains keep their own queues.
 */
export function colocatedTaskQueues(queues: TaskQueues): TaskQueues {
  return { control: queues.control, connector: () => queues.control };
}
