// A test configuration: the example's shape, pointed at a loopback target, with timers short enough to watch.
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';

export interface TestConfigOptions {
  targetHost: string;
  remindAfter?: string;
  escalateAfter?: string;
  expireAfter?: string;
  mode?: 'enforce' | 'shadow';
  extraYaml?: string;
  /** YAML list items appended to `policies.rules` (indented by four spaces). */
  extraRules?: string;
  /** The billing connector's idempotency (default key: the test target dedupes). */
  idempotency?: 'key' | 'none';
  /** The billing connector's per-call timeout (default 2s). */
  connectorTimeout?: string;
}

export const TEST_AGENT_KEY = 'cs_test_agent_key_0001';
export const OTHER_AGENT_KEY = 'cs_test_agent_key_0002';

/** Builds a validated test config. */
export function testConfig(options: TestConfigOptions): CountersignConfig {
  return parseConfig(testConfigYaml(options));
}

/** The test config's YAML text (for a file the CLI loads, or edited into a policy change). */
export function testConfigYaml(options: TestConfigOptions): string {
  const { targetHost } = options;
  return `
people:
  carol: { email: carol@example.com, slack: U0CAROL01 }
  alice: { email: alice@example.com, slack: U0ALICE01 }
  bob: { email: bob@example.com, slack: U0BOB0001 }
  dana: { email: dana@example.com, slack: U0DANA001 }
  erin: { email: erin@example.com, slack: U0ERIN001 }
agents:
  - id: support-bot
    owner: carol
    allowedActions: [payments.refund, email.send_external, customers.read, customers.delete]
    apiKeySha256: 3922bbc095ed72842889a85b82516d7e2ea68dcb498777945abf40a0629d6a20
  - id: other-bot
    owner: dana
    allowedActions: [customers.read]
    apiKeySha256: 565b31ae778c2fbc352094624d142b936d7434b501844651e92079e11eb273a1
approvers:
  finance: { members: [alice, bob, carol] }
  communications: { members: [dana, alice] }
  security: { members: [erin] }
connectors:
  billing:
    type: http
    allowedHosts: ['${targetHost}']
    timeout: ${options.connectorTimeout ?? '2s'}
    idempotency: ${options.idempotency ?? 'key'}
    credential: { env: COUNTERSIGN_TEST_BILLING_TOKEN }
actions:
  payments.refund:
    description: Refund a payment.
    risk: high
    connector: billing
    http: { method: POST, url: 'http://${targetHost}/v1/payments/{paymentId}/refunds' }
    params:
      type: object
      additionalProperties: false
      required: [paymentId, amount, currency]
      properties:
        paymentId: { type: string, pattern: '^pay_[A-Za-z0-9]{4,32}$' }
        amount: { type: number, exclusiveMinimum: 0 }
        currency: { type: string, enum: [USD, EUR] }
  email.send_external:
    description: Send an external email.
    risk: medium
    connector: billing
    http: { method: POST, url: 'http://${targetHost}/v1/emails' }
    params:
      type: object
      required: [to, subject]
      properties:
        to: { type: string, format: email }
        subject: { type: string }
  customers.read:
    description: Read a customer.
    risk: low
    connector: billing
    http: { method: GET, url: 'http://${targetHost}/v1/customers/{customerId}', body: none }
    params: { type: object, required: [customerId], properties: { customerId: { type: string } } }
  customers.delete:
    description: Delete a customer.
    risk: critical
    connector: billing
    http: { method: DELETE, url: 'http://${targetHost}/v1/customers/{customerId}', body: none }
    params: { type: object, required: [customerId], properties: { customerId: { type: string } } }
policies:
  mode: ${options.mode ?? 'enforce'}
  rules:
    - { id: read-customers, match: { actions: [customers.read] }, effect: allow }
    - id: no-production-deletes
      match: { actions: [customers.delete] }
      when: request.target.environment == "production"
      effect: deny
      reason: Agents may not delete production data.
    - id: email-approval
      match: { actions: [email.send_external] }
      effect: require_approval
      approvers: communications
      remindAfter: ${options.remindAfter ?? '1h'}
      escalateAfter: ${options.escalateAfter ?? '2h'}
      escalateTo: security
      expireAfter: ${options.expireAfter ?? '1h'}
    - { id: small-refunds, match: { actions: [payments.refund] }, when: params.amount <= 1000, effect: allow }
    - id: large-refunds
      match: { actions: [payments.refund] }
      when: params.amount > 1000
      effect: require_approval
      approvers: finance
      quorum: 2
      expireAfter: ${options.expireAfter ?? '1h'}
${options.extraRules ?? ''}
${options.extraYaml ?? ''}
`;
}
