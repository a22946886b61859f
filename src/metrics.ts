// Prometheus metrics of every Countersign process. Each call builds its own registry (never prom-client's global one),
// so several instances, or tests, can live in one process without colliding. The API and the workers use the same
// set: each process moves the metrics of what it does (submits on the API; executions, outcomes and decision times on
// the control and connector workers) and leaves the others at zero.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NotifiedState } from './contracts/types';
import type { RequestObserver } from './requests';

/** How one connector attempt ended. `unknown`: it may have reached the downstream, and it is not sent again. */
export type ExecutionOutcomeLabel = 'succeeded' | 'rejected' | 'failed' | 'retrying' | 'unknown';

/** Everything /metrics serves, plus the hooks the request service, activities and Slack client report to. */
export interface Metrics {
  registry: Registry;
  /** Submits by action and outcome: the policy effect for accepted requests, the refusal reason for refused ones. */
  actionRequests: Counter<'action' | 'outcome'>;
  /** Time the policy took to decide a new request, by effect. */
  decisionSeconds: Histogram<'effect'>;
  /** Requests waiting for people; set from Temporal visibility at scrape time. */
  pendingApprovals: Gauge;
  /** Requests waiting for people, by the approver group they wait for; set at scrape time. */
  pendingApprovalsByGroup: Gauge<'group'>;
  /** HTTP requests by route template (never the raw path: ids would explode the label set) and status. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpSeconds: Histogram<'method' | 'route'>;
  /** Agents' refusals by kind (policy denials, actions outside the allowed list, refused scopes): boundary testing. */
  agentRefusals: Counter<'kind'>;
  /** Decided requests by anomaly signal raised (firstUse, volumeAboveBaseline, outsideWorkingHours, repeatedRefusals). */
  signalsRaised: Counter<'signal'>;
  /** Connector attempts by connector, action and outcome. */
  executions: Counter<'connector' | 'action' | 'outcome'>;
  /** Requests that reached a terminal status, by action and status. */
  requestsClosed: Counter<'action' | 'status'>;
  /** Submit to the first human decision, by approver group. */
  firstDecisionSeconds: Histogram<'group'>;
  /** Submit to the decision that settled the request (quorum met or rejection), by approver group. */
  finalDecisionSeconds: Histogram<'group'>;
  /** Slack Web API calls that failed, by method and Slack's error. */
  slackApiErrors: Counter<'method' | 'error'>;
  /** Completion webhook deliveries by outcome (delivered, failed, retrying). */
  webhookDeliveries: Counter<'outcome'>;
  /** Executions that ended with outcome unknown (a call that may have arrived, not re-sent): alert on any increase. */
  executionOutcomeUnknown: Counter<'connector' | 'action'>;
  observer: RequestObserver;
  /** For the control worker's outcome activity: a request reached its terminal status. */
  requestClosed(state: NotifiedState): void;
  /** For the Slack Web API client. */
  slackApiError(method: string, error: string): void;
  /** For the completion webhook sender: one delivery attempt ended so. */
  webhookDelivery(outcome: 'delivered' | 'failed' | 'retrying'): void;
  /** The exposition text: this registry, then the Temporal SDK's runtime metrics when a source is set. */
  text(): Promise<string>;
  contentType: string;
}

export interface MetricsOptions {
  /** Fetches the Temporal SDK runtime's Prometheus text (worker processes), appended to this registry's. */
  temporalSdkMetrics?: () => Promise<string>;
}

/** Seconds from submit to a human decision: a minute to a few days. */
const DECISION_BUCKETS = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200];

/** Creates a fresh registry with the process defaults and Countersign's own metrics. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client adds three gauges named `nodejs_active_*_total`, a suffix the exposition format reserves for counters
  // (`promtool check metrics` refuses them). Their per-type twins without the suffix (`nodejs_active_handles`, …) stay.
  for (const name of ['handles', 'requests', 'resources'] as const) {
    registry.removeSingleMetric(`nodejs_active_${name}_total`);
  }
  const actionRequests = new Counter({
    name: 'countersign_action_requests_total',
    help:
      'Action requests submitted, by action and outcome: allow, deny or require_approval, or the refusal reason ' +
      '(rate_limited, kill_switch, forbidden, invalid_params, unknown_action, …).',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  const decisionSeconds = new Histogram({
    name: 'countersign_policy_decision_seconds',
    help: 'Time to decide a new request by policy, by effect.',
    labelNames: ['effect'] as const,
    // Decisions take microseconds; the top buckets catch slow policy extras (usage lookups).
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const pendingApprovals = new Gauge({
    name: 'countersign_pending_approvals',
    help: 'Requests waiting for approval (Temporal visibility, counted at scrape time).',
    registers: [registry],
  });
  const pendingApprovalsByGroup = new Gauge({
    name: 'countersign_pending_approvals_by_group',
    help: 'Requests waiting for approval by the approver group they wait for (a request may wait for several).',
    labelNames: ['group'] as const,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'countersign_http_requests_total',
    help: 'HTTP requests by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpSeconds = new Histogram({
    name: 'countersign_http_request_duration_seconds',
    help: 'HTTP request duration by method and route template (long polls included).',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const agentRefusals = new Counter({
    name: 'countersign_agent_refusals_total',
    help: 'Refusals of agents by kind (policy_denied, action_not_allowed, scope_refused): agents probing their boundary.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const signalsRaised = new Counter({
    name: 'countersign_signals_raised_total',
    help: 'New requests decided with an anomaly signal raised, by signal (repeatedRefusals: boundary testing).',
    labelNames: ['signal'] as const,
    registers: [registry],
  });
  const executions = new Counter({
    name: 'countersign_executions_total',
    help:
      'Connector attempts by connector, action and outcome: succeeded, rejected (4xx), failed, retrying, or unknown ' +
      '(gave up after an attempt that may have reached the downstream).',
    labelNames: ['connector', 'action', 'outcome'] as const,
    registers: [registry],
  });
  const requestsClosed = new Counter({
    name: 'countersign_requests_closed_total',
    help: 'Requests that reached a terminal status, by action and status.',
    labelNames: ['action', 'status'] as const,
    registers: [registry],
  });
  const firstDecisionSeconds = new Histogram({
    name: 'countersign_time_to_first_decision_seconds',
    help: 'Seconds from submit to the first human decision, by approver group (observed when the request closes).',
    labelNames: ['group'] as const,
    buckets: DECISION_BUCKETS,
    registers: [registry],
  });
  const finalDecisionSeconds = new Histogram({
    name: 'countersign_time_to_final_decision_seconds',
    help: 'Seconds from submit to the decision that settled the request (quorum met or rejected), by approver group.',
    labelNames: ['group'] as const,
    buckets: DECISION_BUCKETS,
    registers: [registry],
  });
  const slackApiErrors = new Counter({
    name: 'countersign_slack_api_errors_total',
    help: 'Slack Web API calls that failed or were rate limited, by method and error.',
    labelNames: ['method', 'error'] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'countersign_webhook_deliveries_total',
    help: 'Completion webhook deliveries by outcome (delivered, failed, retrying).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const executionOutcomeUnknown = new Counter({
    name: 'countersign_execution_outcome_unknown_total',
    help: 'Executions that ended failed with outcome unknown: the call may have reached the downstream and was not re-sent.',
    labelNames: ['connector', 'action'] as const,
    registers: [registry],
  });
  const observer: RequestObserver = {
    decided(action, decision, seconds) {
      actionRequests.inc({ action, outcome: decision.effect });
      decisionSeconds.observe({ effect: decision.effect }, seconds);
      for (const signal of decision.signals?.raised ?? []) signalsRaised.inc({ signal });
    },
    refused(action, code) {
      actionRequests.inc({ action, outcome: code });
    },
  };
  return {
    registry,
    actionRequests,
    decisionSeconds,
    pendingApprovals,
    pendingApprovalsByGroup,
    httpRequests,
    httpSeconds,
    executions,
    requestsClosed,
    firstDecisionSeconds,
    finalDecisionSeconds,
    slackApiErrors,
    webhookDeliveries,
    executionOutcomeUnknown,
    agentRefusals,
    signalsRaised,
    observer,
    requestClosed(state) {
      requestsClosed.inc({ action: state.action, status: state.status });
      const times = decisionTimes(state);
      if (!times) return;
      for (const group of new Set(state.requirements.map((r) => r.group))) {
        firstDecisionSeconds.observe({ group }, times.first);
        if (times.final !== undefined) finalDecisionSeconds.observe({ group }, times.final);
      }
    },
    slackApiError(method, error) {
      slackApiErrors.inc({ method, error });
    },
    webhookDelivery(outcome) {
      webhookDeliveries.inc({ outcome });
    },
    contentType: registry.contentType,
    async text() {
      const own = await registry.metrics();
      if (!options.temporalSdkMetrics) return own;
      return `${own.trimEnd()}\n${(await options.temporalSdkMetrics()).trimEnd()}\n`;
    },
  };
}

/** One observer that tells each of `observers` in turn. */
export function combineObservers(...observers: RequestObserver[]): RequestObserver {
  return {
    decided: (...args) => observers.forEach((o) => o.decided?.(...args)),
    refused: (...args) => observers.forEach((o) => o.refused?.(...args)),
  };
}

/** Seconds from submit to the first decision and to the settling one; undefined when nobody decided. */
export function decisionTimes(state: NotifiedState): { first: number; final?: number } | undefined {
  const decisions = [...state.approvals, ...state.rejections]
    .map((d) => Date.parse(d.receivedAt))
    .sort((a, b) => a - b);
  const first = decisions[0];
  if (first === undefined) return undefined;
  const submitted = Date.parse(state.submittedAt);
  const settled =
    state.rejections.length > 0
      ? Math.min(...state.rejections.map((d) => Date.parse(d.receivedAt)))
      : state.requirements.length > 0 && state.requirements.every((r) => r.satisfied)
        ? decisions.at(-1)
        : undefined;
  return {
    first: Math.max(0, (first - submitted) / 1000),
    ...(settled !== undefined ? { final: Math.max(0, (settled - submitted) / 1000) } : {}),
  };
}
