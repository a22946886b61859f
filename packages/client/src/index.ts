// @countersign/client: the agent's side of Countersign. Framework adapters are subpath exports
// (`@countersign/client/ai-sdk`, `/openai-agents`, `/langchain`); completion webhooks verify with `/webhooks`.
export {
  CountersignError,
  TERMINAL_STATUSES,
  createCountersignClient,
  isTerminal,
  type ActionDescription,
  type ActionRequest,
  type ActionTarget,
  type CountersignClient,
  type CountersignClientOptions,
  type Problem,
  type ProblemCode,
  type RequestStatus,
  type SubmitInput,
  type components,
  type paths,
} from './client.js';
export {
  governedInputSchema,
  runGoverned,
  toolName,
  type GovernedInput,
  type GovernedResult,
  type GovernedToolOptions,
} from './governed.js';
export {
  createWebhookHandler,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type CountersignWebhookEvent,
  type WebhookHeaders,
} from './webhooks.js';
