// What `countersign dev` prints once everything is up: where things are, and commands a newcomer can paste.
// Pure text, so a test can check it names real routes and real example values.

/** The demo agent's API key; only its SHA-256 is in examples/countersign.yaml. Dev only. */
export const DEMO_AGENT_KEY = 'cs_demo_support_bot_key';

export interface BannerInfo {
  apiUrl: string;
  temporalUiUrl?: string;
  namespace: string;
  configPath: string;
  /** True when the example config is loaded: the walkthrough below only makes sense with it. */
  example: boolean;
  dataDir: string;
  /** Where dev mode keeps a personal operator token per person (the CLI's `--as` picks one). */
  operatorTokensDir?: string;
  billingUrl?: string;
  approvals: 'log' | 'slack';
  embeddedTemporal: boolean;
}

/** The start-up banner of `countersign dev`. */
export function devBanner(info: BannerInfo): string {
  const ui = info.temporalUiUrl;
  const lines = [
    '',
    'Countersign is running.',
    '',
    `  API              ${info.apiUrl}   (OpenAPI: ${info.apiUrl}/openapi.json)`,
    ui ? `  Temporal UI      ${ui}/namespaces/${encodeURIComponent(info.namespace)}/workflows` : '',
    `  Config           ${info.configPath}`,
    info.embeddedTemporal ? `  State            ${info.dataDir} (kept across restarts)` : '',
    info.billingUrl ? `  Billing example  ${info.billingUrl} (stand-in for the internal billing service)` : '',
    info.operatorTokensDir
      ? `  Operator tokens  in ${info.operatorTokensDir}/ (one per person; the CLI's --as picks one; never printed)`
      : '',
    `  Approvals        ${info.approvals === 'slack' ? 'Slack, or' : 'no Slack configured: approve'} with \`npx countersign approve\``,
  ];
  if (info.example) lines.push(...walkthrough(info.apiUrl, ui));
  lines.push('', 'Ctrl-C stops everything; pending requests wait for the next start.', '');
  return lines.filter((l, i, all) => l !== '' || all[i - 1] !== '').join('\n');
}

function walkthrough(api: string, ui: string | undefined): string[] {
  const auth = `-H 'Authorization: Bearer ${DEMO_AGENT_KEY}'`;
  const post = (body: object, wait: boolean) =>
    `  curl -s -X POST '${api}/v1/action-requests${wait ? '?wait=10' : ''}' ${auth} -H 'Content-Type: application/json' \\\n    -d '${JSON.stringify(body)}'`;
  return [
    '',
    `Demo agent: support-bot, API key ${DEMO_AGENT_KEY} (example config only; never use it elsewhere).`,
    '',
    '1. An allowed refund ($50): policy small-refunds allows it, the billing service runs it → "status":"succeeded"',
    post(
      {
        action: 'payments.refund',
        params: { paymentId: 'pay_1001abcd', amount: 50, currency: 'USD' },
        reason: 'Duplicate charge on order 1001',
      },
      true,
    ),
    '',
    '2. A production delete: policy no-production-deletes denies it → "status":"denied"',
    post(
      {
        action: 'customers.delete',
        params: { customerId: 'cus_4242abcd' },
        reason: 'Customer asked us to close the account',
        target: { system: 'billing', environment: 'production' },
      },
      true,
    ),
    '',
    '3. A large refund ($2,500): two finance approvers must agree → "status":"pending_approval" (note its "id")',
    post(
      {
        action: 'payments.refund',
        params: { paymentId: 'pay_2002abcd', amount: 2500, currency: 'USD' },
        reason: 'Service outage credit for enterprise customer',
      },
      false,
    ),
    '',
    '4. Approve it twice, as two distinct finance approvers (carol owns the agent and may not approve):',
    '  npx countersign requests list --status pending_approval',
    '  npx countersign approve <id> --as alice --reason "checked the invoice"',
    '  npx countersign approve <id> --as bob --reason "ok"',
    '',
    '5. Read it back → "status":"succeeded"',
    `  curl -s '${api}/v1/action-requests/<id>?wait=10' ${auth}`,
    '',
    ui
      ? `Every request is a workflow in the Temporal UI; filter with: CsStatus = 'pending_approval'`
      : `Every request is a workflow; search attribute CsStatus holds its status.`,
  ];
}
