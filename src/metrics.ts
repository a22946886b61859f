// Prometheus metrics. Each call builds its own registry (never prom-client's global one), so several API instances, or
// tests, can live in one process without colliding.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestObserver } from './requests';

/** Everything /metrics serves, plus the observer the request service reports decisions to. */
export interface Metrics {
  registry: Registry;
  /** Submits by action and outcome: the policy effect for accepted requests, the error code for refused ones. */
  actionRequests: Counter<'action' | 'outcome'>;
  /** Time the policy took to decide a new request, by effect. */
  decisionSeconds: Histogram<'effect'>;
  /** Requests waiting for people; set from Temporal visibility at scrape time. */
  pendingApprovals: Gauge;
  /** HTTP requests by route template (never the raw path: ids would explode the label set) and status. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpSeconds: Histogram<'method' | 'route'>;
  /** Executions that ended with outcome unknown (a call that may have arrived, not re-sent): alert on any increase. */
  executionOutcomeUnknown: Counter<'connector' | 'action'>;
  observer: RequestObserver;
}

/** Creates a fresh registry with the process defaults and Countersign's own metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const actionRequests = new Counter({
    name: 'countersign_action_requests_total',
    help: 'Action requests submitted, by action and outcome (allow, deny, require_approval, or the refusal code).',
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
    httpRequests,
    httpSeconds,
    executionOutcomeUnknown,
    observer,
  };
}
