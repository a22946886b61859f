// Evidence export over requests that really ran on the test Temporal server: one record per request with who, what,
// when, where, why, outcome and receipt id; a JSONL export that verifies, and fails to verify after each kind of
// tampering; OCSF events valid against the OCSF API Activity schema; the CLI's export and verify.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  exportEvidence,
  lineHash,
  ocsfEvent,
  verifyEvidenceJsonl,
  type ChainedLine,
  type EvidenceRecord,
} from '../../src/evidence';
import { exportReceiptKey, generateReceiptKey, RECEIPT_HEADER, type ReceiptKey } from '../../src/receipts';
import { runCountersign, ROOT } from '../integration/cli-run';
import { testConfig } from '../support/config';
import { generateMasterKey } from '../../src/vault';
import { payloadCodecFor, startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { finalState, refund, submit, waitForState } from '../workflows/helpers';

let target: TargetServer;
let h: Harness;
let key: ReceiptKey;
let from: Date;
let to: Date;
const ids: Record<'small' | 'large' | 'denied' | 'pending', string> = { small: '', large: '', denied: '', pending: '' };
let jsonl: string;
let records: EvidenceRecord[];

const masterKey = generateMasterKey();

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_evidence_5b1c';
  target = await startTargetServer();
  h = await startHarness({
    config: testConfig({ targetHost: target.host }),
    identity: {},
    // A key the CLI is given too, so the export decodes the histories as an operator's machine would.
    codec: payloadCodecFor(masterKey),
  });
  key = await generateReceiptKey();
  from = new Date(Date.now() - 1000);

  const small = await submit(h, refund(25, { target: { system: 'billing', environment: 'production' } }));
  ids.small = small.state.requestId;
  await finalState(h, ids.small);

  const large = await submit(h, refund(4000));
  ids.large = large.state.requestId;
  await waitForState(h, ids.large, (s) => s.timeline.length > 0);
  // carol owns the agent: her attempt is refused and recorded.
  await expect(h.service.decide(ids.large, { decision: 'approve', approver: 'carol' })).rejects.toMatchObject({
    code: 'decision_refused',
  });
  await h.service.decide(ids.large, { decision: 'approve', approver: 'alice' });
  await h.service.decide(ids.large, { decision: 'approve', approver: 'bob', reason: 'checked the invoice' });
  await finalState(h, ids.large);

  const denied = await submit(h, {
    action: 'customers.delete',
    params: { customerId: 'cus_1' },
    reason: 'cleanup',
    target: { system: 'crm', environment: 'production', resource: 'cus_1' },
  });
  ids.denied = denied.state.requestId;
  await finalState(h, ids.denied);

  const pending = await submit(h, {
    action: 'email.send_external',
    params: { to: 'x@example.org', subject: '=HYPERLINK("http://evil")' },
    reason: 'tell them',
  });
  ids.pending = pending.state.requestId;
  await waitForState(h, ids.pending, (s) => s.timeline.length > 0);
  to = new Date(Date.now() + 1000);

  const filter = { from, to, taskQueue: h.taskQueues.control };
  // Visibility is eventually consistent: wait until all four are listed.
  for (;;) {
    const out = await exportEvidence(h.client, filter, { format: 'jsonl', key, catalog: h.catalog });
    if (out.records.length >= 4 && out.records.find((r) => r.requestId === ids.large)?.status === 'succeeded') {
      jsonl = out.text;
      records = out.records;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
  await target?.close();
});

const byId = (id: string) => {
  const r = records.find((x) => x.requestId === id);
  if (!r) throw new Error(`no record for ${id}`);
  return r;
};

describe('evidence records', () => {
  it('when requests ran, then the export holds one record per request in submit order', () => {
    expect(records.map((r) => r.requestId)).toEqual([ids.small, ids.large, ids.denied, ids.pending]);
  });

  it('when a request executed, then its record names the receipt the downstream was shown', () => {
    const r = byId(ids.small);
    const [call] = target.callsFor(ids.small);
    const jti = decodeJwt(String(call?.headers[RECEIPT_HEADER.toLowerCase()])).jti;
    expect(r.receiptId).toBe(jti);
    expect(r).toMatchObject({
      status: 'succeeded',
      who: { agent: 'support-bot', owner: 'carol', approvers: [] },
      what: { action: 'payments.refund', params: { paymentId: 'pay_abcd1234', amount: 25, currency: 'USD' } },
      where: { connector: 'billing', target: { system: 'billing', environment: 'production' } },
      why: { effect: 'allow', matchedRules: ['small-refunds'], reason: 'refund 25' },
      outcome: { ok: true, httpStatus: 200 },
    });
    expect(r.why.policyVersion).toMatch(/^p-/);
  });

  it('when people decided, then the record lists the approvers and the refused attempt', () => {
    const r = byId(ids.large);
    expect(r.who.approvers.map((d) => [d.approver, d.decision])).toEqual([
      ['alice', 'approve'],
      ['bob', 'approve'],
    ]);
    expect(r.who.approvers[1]?.reason).toBe('checked the invoice');
    expect(r.who.refusedAttempts).toMatchObject([{ approver: 'carol', refusal: 'self_approval' }]);
    expect(r.when.decidedAt).toBe(r.who.approvers[1]?.at);
  });

  it('when policy denied a request, then the record carries the rule and its reason', () => {
    expect(byId(ids.denied)).toMatchObject({
      status: 'denied',
      why: {
        effect: 'deny',
        matchedRules: ['no-production-deletes'],
        denyReason: 'Agents may not delete production data.',
      },
      where: { target: { resource: 'cus_1' } },
    });
    expect(byId(ids.pending).status).toBe('pending_approval');
  });
});

describe('evidence verification', () => {
  const lines = () => jsonl.trimEnd().split('\n');
  const join_ = (ls: string[]) => `${ls.join('\n')}\n`;
  const codes = async (text: string, trusted = [key.publicJwk]) =>
    (await verifyEvidenceJsonl(text, trusted)).problems.map((p) => p.code);

  it('when nothing was changed, then the export verifies', async () => {
    const result = await verifyEvidenceJsonl(jsonl, [key.publicJwk]);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, records: 4, manifest: { count: 4, keyId: key.kid } });
  });

  it('when a record is altered, then verification names it', async () => {
    const ls = lines();
    ls[1] = (ls[1] ?? '').replace('"amount":4000', '"amount":40');
    expect(await codes(join_(ls))).toEqual(['altered_record']);
  });

  it('when a record is removed, then verification fails', async () => {
    const ls = lines();
    ls.splice(1, 1);
    expect(await codes(join_(ls))).toEqual(
      expect.arrayContaining(['out_of_sequence', 'broken_chain', 'count_mismatch']),
    );
    const last = lines();
    last.splice(3, 1);
    expect(await codes(join_(last))).toEqual(expect.arrayContaining(['count_mismatch', 'last_hash_mismatch']));
  });

  it('when a forged record with a correct own hash is inserted, then verification fails', async () => {
    const ls = lines();
    const before = JSON.parse(ls[0] ?? '') as ChainedLine;
    const record = { ...byId(ids.small), requestId: 'req_forged' };
    const forged: ChainedLine = { seq: 1, prev: before.hash, record, hash: lineHash(1, before.hash, record) };
    ls.splice(1, 0, JSON.stringify(forged));
    const found = await codes(join_(ls));
    expect(found).toEqual(expect.arrayContaining(['broken_chain', 'count_mismatch']));
    expect(found).not.toContain('altered_record');
  });

  it('when records are reordered, then verification fails', async () => {
    const ls = lines();
    [ls[1], ls[2]] = [ls[2] ?? '', ls[1] ?? ''];
    expect(await codes(join_(ls))).toEqual(expect.arrayContaining(['out_of_sequence', 'broken_chain']));
  });

  it('when the manifest is altered or signed by another key, then its signature fails', async () => {
    const ls = lines();
    const manifestLine = JSON.parse(ls.at(-1) ?? '') as { manifest: { range: { from: string } }; signature: string };
    manifestLine.manifest.range.from = '2000-01-01T00:00:00.000Z';
    ls[ls.length - 1] = JSON.stringify(manifestLine);
    expect(await codes(join_(ls))).toEqual(['bad_signature']);
    const other = await generateReceiptKey();
    expect(await codes(jsonl, [other.publicJwk])).toEqual(['untrusted_key']);
    expect(await codes(join_(lines().slice(0, -1)))).toEqual(['missing_manifest']);
  });
});

describe('evidence formats', () => {
  it('when exported as OCSF, then every event is a valid OCSF 1.8.0 API Activity event', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema/ocsf/api_activity-1.8.0.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    for (const r of records) {
      const event = ocsfEvent(r);
      expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
      expect(event).toMatchObject({
        class_uid: 6003,
        category_uid: 6,
        type_uid: 600399,
        metadata: { uid: r.requestId },
      });
    }
    // The schema is strict: an attribute OCSF does not define fails.
    expect(validate({ ...ocsfEvent(records[0] as EvidenceRecord), invented: 1 })).toBe(false);
  });

  it('when exported as CSV, then each request is a row and agent-written formulas stay text', async () => {
    const { text } = await exportEvidence(h.client, { from, to, taskQueue: h.taskQueues.control }, { format: 'csv' });
    const rows = text.trimEnd().split('\r\n');
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(/^request_id,status,agent,/);
    // Without the catalog no parameter is known to be safe: every value is withheld.
    expect(text).not.toContain('HYPERLINK("http');
  });
});

describe('evidence CLI', () => {
  it('when exporting and verifying through the CLI, then a clean file verifies and a tampered one exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-evidence-'));
    const file = join(dir, 'export.jsonl');
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      COUNTERSIGN_RECEIPT_KEY: exportReceiptKey(key),
      COUNTERSIGN_DATA_DIR: dir,
      COUNTERSIGN_MASTER_KEY: masterKey,
    };
    const exported = await runCountersign(
      [
        'evidence',
        'export',
        '--from',
        from.toISOString(),
        '--to',
        to.toISOString(),
        '--task-queue',
        h.taskQueues.control,
        '--output',
        file,
      ],
      env,
    );
    expect(exported.stderr).toContain('4 records written');
    expect(exported.code).toBe(0);
    const ok = await runCountersign(['evidence', 'verify', file], env);
    expect(ok.stdout).toContain('verified: 4 records');
    expect(ok.code).toBe(0);

    writeFileSync(file, readFileSync(file, 'utf8').replace('"amount":25', '"amount":2500'));
    const bad = await runCountersign(['evidence', 'verify', file, '--json'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, problems: [{ line: 1, code: 'altered_record' }] });
  }, 60_000);
});
