// Workflow-safe types shared by the API, the worker, Slack, the CLI and the tests.
// Nothing here imports node:* or performs I/O: this module is bundled into workflow code.

/**
 * Every status a request can be in; the last seven are terminal. `terminated` is never set by the workflow: it is how a
 * request reads whose workflow was terminated from Temporal (no code ran to record an end).
 */
export const REQUEST_STATUSES = [
  'pending_approval',
  'approved',
  'executing',
  'succeeded',
  'failed',
  'denied',
  'rejected',
  'expired',
  'cancelled',
  'terminated',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RequestStatus[] = [
  'succeeded',
  'failed',
  'denied',
  'rejected',
  'expired',
  'cancelled',
  'terminated',
];

/** True when no further transition can happen. */
export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export type PolicyEffect = 'allow' | 'deny' | 'require_approval';
export type PolicyMode = 'enforce' | 'shadow';
/** Risk tiers, lowest first. */
export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

/** Where the action lands; free-form ids, never secrets. */
export interface ActionTarget {
  system?: string;
  environment?: string;
  resource?: string;
}

/** One approval requirement produced by a matching `require_approval` rule. Durations are milliseconds. */
export interface ApprovalRequirement {
  ruleId: string;
  group: string;
  quorum: number;
  /** People (approver ids) who may approve from the start. */
  members: string[];
  remindAfterMs?: number;
  escalateAfterMs?: number;
  escalateTo?: string;
  /** People added when the escalation fires. */
  escalationMembers: string[];
  /** Slack user groups whose members may approve from the start (membership is attested by the Slack layer). */
  usergroups?: string[];
  /** Slack user groups added when the escalation fires. */
  escalationUsergroups?: string[];
  expireAfterMs: number;
}

/** What the policy engine decided, with the reasons. */
export interface PolicyDecision {
  /** The effect that governs the request (in shadow mode: always allow). */
  effect: PolicyEffect;
  /** The effect the rules produced, before shadow mode. */
  evaluatedEffect: PolicyEffect;
  mode: PolicyMode;
  /** Ids of every rule that matched. */
  rules: string[];
  /** A human-readable reason for deny (returned to the agent). */
  reason?: string;
  policyVersion: string;
  approvals: ApprovalRequirement[];
  /** Anomaly signals computed for the request and visible to its rules (`signals.*`), kept with the decision. */
  signals?: RequestSignals;
  /** What else the rules saw, so `policy replay` can decide the request again under another policy. */
  inputs?: RecordedPolicyInputs;
}

/** The decision inputs not otherwise in the request's record (its params, reason, target and agent id are). */
export interface RecordedPolicyInputs {
  /** `request.time` as the rules saw it (ISO). */
  time: string;
  /** The agent's description and allowed actions at the time. */
  agent: { description?: string; allowedActions?: string[] };
  /** Every usage figure loaded for the decision, by its CEL call (`sum('payments.refund', 'amount', '24h')`). */
  usage?: Record<string, number>;
}

/** Anomaly signals of one request, relative to its agent's own history. */
export interface RequestSignals {
  /** The agent has never executed this action before. */
  firstUse: boolean;
  /** The agent's executions in the last volume window, this request included, exceed its own recent baseline. */
  volumeAboveBaseline: boolean;
  /** The request arrived outside the configured working hours (always false when none are configured). */
  outsideWorkingHours: boolean;
  /** The agent's executions in the last volume window, this request included. */
  recentVolume: number;
  /** The agent's average executions per volume window over the lookback before it. */
  baselineVolume: number;
  /** The agent's refusals within the refusals window reached the threshold: it keeps probing its boundary. */
  repeatedRefusals?: boolean;
  /** The agent's refusals (policy denials, actions outside its allowed list, refused scopes) within the window. */
  recentRefusals?: number;
  /** Names of the raised signals, for people and the trail. */
  raised: string[];
}

/** Connector routing for the execution step; settings stay in the worker's config. */
export interface ConnectorRef {
  name: string;
  type: string;
  taskQueue: string;
  /** Per-attempt timeout of the downstream call. */
  timeoutMs: number;
  /**
   * The connector runs in the control worker (its queue is the control queue, dev mode): the re-check runs inside its
   * activity (`executeCheckedAction`). Absent: a local re-check before the connector's own activity.
   */
  checked?: boolean;
  /**
   * The call as the Temporal UI's activity summary names it: method and the URL template's path
   * (`POST /v1/payments/{paymentId}/refunds`), placeholders kept, never a parameter value. Absent before it existed.
   */
  call?: string;
}

/** Where a notification landed (a Slack channel and message ts, say), so later updates can edit it. */
export interface NotificationRef {
  channel: string;
  ts: string;
}

export type NotificationKind = 'requested' | 'reminder' | 'escalated' | 'progress';

/**
 * A request as the notification activities get it: its state without the timeline and without the policy's signals
 * and inputs, which no notice shows (they stay in the workflow, its result and the start event). `revision` is the
 * timeline's length, which orders notices and tells a retried one from a new one. A full state is one too.
 */
export type NotifiedState = Omit<ActionRequestState, 'timeline' | 'decision'> & {
  decision: Omit<PolicyDecision, 'signals' | 'inputs'>;
  /** The timeline's length when sent. Absent from inputs written before it, which carry the timeline itself. */
  revision?: number;
  timeline?: TimelineEntry[];
};

/** Input of the `notifyApprovers` activity. */
export interface NotifyApproversInput {
  kind: NotificationKind;
  /** For reminders and escalations: the group concerned (the escalation group when escalating). */
  group?: string;
  state: NotifiedState;
  params: Record<string, unknown>;
  refs: NotificationRef[];
}

/** Input of the `notifyOutcome` activity. */
export interface NotifyOutcomeInput {
  state: NotifiedState;
  refs: NotificationRef[];
  /** The request's parameters, so an edited message keeps its (redacted) preview. */
  params?: Record<string, unknown>;
}

/** Input of the `recheckBeforeExecution` activity. */
export interface RecheckInput {
  requestId: string;
  agentId: string;
  action: string;
  params: Record<string, unknown>;
  paramsHash: string;
  approvedParamsHashes: string[];
}

export type RecheckResult = { ok: true } | { ok: false; reason: string };

/** Input of a connector's `executeConnectorAction` activity. */
export interface ExecuteActionInput {
  requestId: string;
  action: string;
  connector: string;
  params: Record<string, unknown>;
  paramsHash: string;
  // The fields below feed the approval receipt and the usage record. Optional: activities scheduled by workflows
  // that started before they existed arrive without them.
  agentId?: string;
  /** People whose approvals let the request execute (empty when policy allowed it). */
  approvers?: string[];
  policyVersion?: string;
  target?: ActionTarget;
  /**
   * When the call is still running this long (ms), the activity signals its workflow (`executionRunningSignal`), which
   * tells the approvers and lists the request as `executing`. Set from generation 3 for requests that waited for
   * people; absent, nobody is told (an allowed request, or an older workflow that keeps a timer of its own).
   */
  runningNoticeAfterMs?: number;
}

/**
 * Input of `executeCheckedAction`: the connector call with the re-check before it, in one activity. Only a control
 * worker that also serves the connector (colocatedTaskQueues) registers it.
 */
export interface CheckedExecutionInput extends ExecuteActionInput {
  agentId: string;
  /** The params hash each accepted approval was bound to. */
  approvedParamsHashes: string[];
}

/** What `executeCheckedAction` answers: the re-check's refusal (nothing sent in this attempt), or the outcome. */
export type CheckedExecution =
  | {
      refused: string;
      /** Attempts before this one, which may have reached the downstream (0: nothing was ever sent). */
      earlierAttempts: number;
    }
  | {
      /** When the re-check passed and the call began (ISO). */
      startedAt: string;
      outcome: ExecutionOutcome;
    };

/** The single input object of `actionRequestWorkflow`. JSON-safe; times are ISO strings. */
export interface ActionRequestInput {
  requestId: string;
  agent: { id: string; owner: string };
  action: string;
  risk: RiskTier;
  params: Record<string, unknown>;
  /** SHA-256 over the canonical JSON of `params`. */
  paramsHash: string;
  reason: string;
  onBehalfOf?: string;
  target?: ActionTarget;
  submittedAt: string;
  decision: PolicyDecision;
  /** Approver ids that may never decide this request (the agent's owner, the person it acts for). */
  excludedApprovers: string[];
  connector: ConnectorRef;
  /**
   * How long the re-check before execution keeps retrying while the agent's standing cannot be confirmed (the registry
   * unreachable, say) before the request ends `failed`. Absent (requests started before it existed): 10 minutes.
   */
  recheckWindowMs?: number;
  /**
   * Where the agent asked to be told of the request's progress (a completion webhook), with the retry schedule of the
   * deliveries. Never a secret: the signing key stays with the worker. Absent: no webhook.
   */
  callback?: CallbackTarget;
  /**
   * The workflow generation this request runs as (WORKFLOW_GENERATION in src/contracts/names.ts). From 2 on, every
   * behaviour added behind a patch is on from the start and no patch marker is written. From 3 on, an approved
   * request's search attributes say `executing` only once its execution has run for a while (its workflow task that
   * starts the execution upserts nothing). Absent: a request started before generations existed, which replays
   * through its patch markers.
   */
  generation?: number;
  /** True when some parameters are sealed in the vault: the request's end then erases them. Absent before it existed. */
  sealed?: boolean;
}

/** A completion webhook's receiver and how long its deliveries are retried. Durations are milliseconds. */
export interface CallbackTarget {
  url: string;
  /** Per-attempt timeout of the POST. */
  timeoutMs: number;
  /** The first retry waits this long; each further one twice as long, up to an hour. */
  firstRetryMs: number;
  /** A delivery is given up this long after its first attempt. */
  retryForMs: number;
}

/** The statuses a completion webhook is sent for: the wait for people, and every terminal one the workflow records. */
export type WebhookEventStatus = Exclude<RequestStatus, 'approved' | 'executing' | 'terminated'>;

/** A completion webhook's body (the Standard Webhooks payload shape: `type`, `timestamp`, `data`). */
export interface WebhookEvent {
  /** `request.<status>`, e.g. `request.succeeded`. */
  type: `request.${WebhookEventStatus}`;
  /** When the request reached the status (ISO). */
  timestamp: string;
  data: {
    requestId: string;
    status: WebhookEventStatus;
    action: string;
    agent: string;
    risk: RiskTier;
    paramsHash: string;
    submittedAt: string;
    decision: { effect: PolicyEffect; rules: string[]; policyVersion: string; reason?: string };
    /** For `pending_approval`: what the request waits for, and until when. */
    waitingFor?: { group: string; quorum: number; approvedBy: string[] }[];
    expiresAt?: string;
    /** For terminal statuses: who decided (approvers; a rejection's author and reason; a cancellation). */
    approvedBy?: string[];
    rejection?: { by: string; reason?: string };
    cancellation?: { by: string; reason?: string };
    /** The execution's secret-free outcome, when it ran (or was blocked). */
    outcome?: { ok: boolean; status?: number; summary: string };
  };
}

/** The single input object of `webhookDeliveryWorkflow`: one event for one receiver. */
export interface WebhookDeliveryInput {
  /** The `webhook-id`: stable across retries, so receivers de-duplicate on it. */
  deliveryId: string;
  requestId: string;
  /** Whose signing secret signs it. */
  agentId: string;
  callback: CallbackTarget;
  event: WebhookEvent;
}

/** How a delivery ended. */
export interface WebhookDeliveryResult {
  deliveryId: string;
  delivered: boolean;
  /** The receiver's HTTP status on the last attempt, when it answered. */
  status?: number;
  /** Why it was given up (no secret, no response body). */
  reason?: string;
}

/** Input of the `webhookGaveUp` activity. */
export interface WebhookGaveUpInput {
  deliveryId: string;
  requestId: string;
  reason: string;
}

export type DecisionChoice = 'approve' | 'reject';
export type DecisionChannel = 'slack' | 'api' | 'cli';

/** The payload of `decideUpdate` (and of the durable `submitDecisionSignal`). */
export interface DecisionSubmission {
  /** The approver's person id (as in the config's approver groups). */
  approver: string;
  decision: DecisionChoice;
  channel: DecisionChannel;
  reason?: string;
  /** The params hash the approver was shown; must equal the request's. */
  paramsHash: string;
  /** ISO time the decision was made, set by the sender. */
  at: string;
  /** Channel-specific facts (Slack user/team/message ts), ids only. */
  context?: Record<string, string>;
  /**
   * Slack user groups the sending channel attests the approver belonged to when deciding (ids only). The workflow
   * accepts an attestation only for user groups the request's requirements list.
   */
  usergroups?: string[];
}

export type RefusalCode = 'not_an_approver' | 'self_approval' | 'duplicate' | 'already_decided' | 'params_mismatch';

export interface RecordedDecision extends DecisionSubmission {
  receivedAt: string;
}

export interface RefusedDecision extends RecordedDecision {
  refusal: RefusalCode;
}

export interface TimelineEntry {
  at: string;
  event: string;
  detail?: string;
}

export interface ExecutionOutcome {
  ok: boolean;
  /** Downstream HTTP status, when there was one. */
  status?: number;
  /** Size-bounded, secret-free summary of the response. */
  summary: string;
  attempts?: number;
  /** The id (`jti`) of the approval receipt presented on the call that produced this outcome. */
  receiptId?: string;
  /**
   * True when the call may or may not have reached the downstream and was not re-sent (a connector with
   * `idempotency: none`): the request failed with outcome unknown, for an operator to reconcile.
   */
  unknown?: boolean;
}

/** Requirement progress as shown to people. */
export interface RequirementProgress {
  ruleId: string;
  group: string;
  quorum: number;
  approvedBy: string[];
  satisfied: boolean;
  escalated: boolean;
}

/** The full state of a request: the query answer and the workflow result. */
export interface ActionRequestState {
  requestId: string;
  status: RequestStatus;
  agent: { id: string; owner: string };
  action: string;
  risk: RiskTier;
  paramsHash: string;
  reason: string;
  onBehalfOf?: string;
  target?: ActionTarget;
  submittedAt: string;
  decision: PolicyDecision;
  expiresAt?: string;
  eligibleApprovers: string[];
  requirements: RequirementProgress[];
  approvals: RecordedDecision[];
  rejections: RecordedDecision[];
  refused: RefusedDecision[];
  cancellation?: { by: string; reason?: string; at: string };
  outcome?: ExecutionOutcome;
  timeline: TimelineEntry[];
  /**
   * Set by the reader, never by the workflow: true when no worker answered and the state was assembled from the
   * search attributes and memo (status current, decisions and timeline as at submit).
   */
  stale?: boolean;
}

/** Payload of `cancelUpdate` (and of the durable `cancelRequestSignal`). */
export interface CancelRequest {
  by: string;
  reason?: string;
}

/** The workflow's answer to `decideUpdate`: whether the decision counted, why not, and the state after it. */
export interface DecideResult {
  accepted: boolean;
  refusal?: RefusalCode;
  status: RequestStatus;
  state: ActionRequestState;
}

/** The workflow's answer to `cancelUpdate`. */
export interface CancelResult {
  cancelled: boolean;
  status: RequestStatus;
  state: ActionRequestState;
}
