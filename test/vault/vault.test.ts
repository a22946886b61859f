import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import {
  createMasterKeyring,
  createVault,
  createVaultCredentialResolver,
  createVaultKeyProtector,
  openVault,
  generateMasterKey,
  loadMasterKeyring,
  parseMasterKey,
  secretIdsFor,
  type MasterKeyring,
  type VaultTables,
} from '../../src/vault';
import { createSigningKeys } from '../../src/identity/signing-keys';
import { testConfig } from '../support/config';
import { describeEachDatabase } from '../identity/databases';

const CANARY = 'sk_live_canary_5f1d3b9e0a7c';

function keyring(base64: string, previous: string[] = []): MasterKeyring {
  return createMasterKeyring(
    parseMasterKey(base64, 'test key'),
    previous.map((p, i) => parseMasterKey(p, `previous ${i}`)),
  );
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

await describeEachDatabase('credential vault', (current) => {
  const keyA = generateMasterKey();
  const keyB = generateMasterKey();

  const rows = () =>
    current()
      .db.withTables<VaultTables>()
      .selectFrom('vault_secrets')
      .selectAll()
      .orderBy('secret_id')
      .orderBy('version')
      .execute();

  it('when a secret is put and read for a request, then the value round-trips, only ciphertext is stored and the read is logged', async () => {
    const vault = createVault({ db: current().db, keyring: keyring(keyA) });
    const summary = await vault.put({ id: 'billing-token', value: CANARY, by: 'alice', description: 'billing API' });
    expect(summary).toMatchObject({
      id: 'billing-token',
      version: 1,
      versions: 1,
      description: 'billing API',
      updatedBy: 'alice',
    });
    expect(JSON.stringify(summary)).not.toContain(CANARY);

    const stored = await rows();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(CANARY);
    expect(JSON.stringify(stored)).not.toContain(Buffer.from(CANARY).toString('base64'));

    await expect(vault.read('billing-token', { requestId: 'req_1' })).resolves.toBe(CANARY);
    const log = await vault.accessLog({ secretId: 'billing-token' });
    expect(log).toEqual([
      expect.objectContaining({ request_id: 'req_1', secret_id: 'billing-token', version: 1, outcome: 'granted' }),
    ]);
  });

  it('when a secret is rotated, then reads return the new version and list shows every secret without values', async () => {
    const vault = createVault({ db: current().db, keyring: keyring(keyA) });
    await vault.put({ id: 'billing-token', value: 'first-value-1', by: 'alice' });
    await vault.put({ id: 'mail-password', value: 'mail-value-1', by: 'alice' });
    await expect(vault.put({ id: 'billing-token', value: 'again', by: 'bob' })).rejects.toMatchObject({
      code: 'conflict',
    });
    const rotated = await vault.rotate({ id: 'billing-token', value: 'second-value-2', by: 'bob' });
    expect(rotated).toMatchObject({ version: 2, versions: 2, updatedBy: 'bob' });
    await expect(vault.rotate({ id: 'nope', value: 'x', by: 'bob' })).rejects.toMatchObject({ code: 'not_found' });

    await expect(vault.read('billing-token', { requestId: 'req_2' })).resolves.toBe('second-value-2');
    const listed = await vault.list();
    expect(listed.map((s) => [s.id, s.version, s.versions])).toEqual([
      ['billing-token', 2, 2],
      ['mail-password', 1, 1],
    ]);
    const text = JSON.stringify(listed);
    for (const value of ['first-value-1', 'second-value-2', 'mail-value-1']) expect(text).not.toContain(value);
  });

  it('when the master key is rotated and the vault re-wrapped, then the new key alone reads every version and the old key alone cannot', async () => {
    const before = createVault({ db: current().db, keyring: keyring(keyA) });
    await before.put({ id: 'billing-token', value: 'v1-value', by: 'alice' });
    await before.rotate({ id: 'billing-token', value: 'v2-value', by: 'alice' });
    await before.put({ id: 'mail-password', value: 'mail-value', by: 'alice' });
    const ciphertextsBefore = (await rows()).map((r) => r.ciphertext);

    // During the rotation: the new key is current, the old one is still known.
    const during = createVault({ db: current().db, keyring: keyring(keyB, [keyA]) });
    await expect(during.read('billing-token', { requestId: 'req_r1' })).resolves.toBe('v2-value');
    await expect(during.rewrap()).resolves.toEqual({ rewrapped: 3, total: 3 });
    await expect(during.rewrap()).resolves.toEqual({ rewrapped: 0, total: 3 });

    const after = await rows();
    const idB = parseMasterKey(keyB, 'b').id;
    expect(after.every((r) => r.key_id === idB)).toBe(true);
    // Envelope encryption: only the data keys were re-wrapped, the secret ciphertexts are untouched.
    expect(after.map((r) => r.ciphertext)).toEqual(ciphertextsBefore);

    const onlyB = createVault({ db: current().db, keyring: keyring(keyB) });
    await expect(onlyB.read('billing-token', { requestId: 'req_r2' })).resolves.toBe('v2-value');
    await expect(onlyB.read('mail-password', { requestId: 'req_r2' })).resolves.toBe('mail-value');

    const onlyA = createVault({ db: current().db, keyring: keyring(keyA) });
    const err = await caught(onlyA.read('billing-token', { requestId: 'req_r3' }));
    expect(err).toBeInstanceOf(AppError);
    expect(err.message).toContain(idB);
  });

  it('when the master key is wrong, then reading fails closed with a message naming key ids only, and the failure is logged', async () => {
    await createVault({ db: current().db, keyring: keyring(keyA) }).put({
      id: 'billing-token',
      value: CANARY,
      by: 'alice',
    });
    const wrong = createVault({ db: current().db, keyring: keyring(keyB) });
    const err = await caught(wrong.read('billing-token', { requestId: 'req_w' }));
    expect(err).toMatchObject({ code: 'config_invalid' });
    expect(err.message).toContain('not configured');
    for (const leak of [CANARY, keyA, keyB]) expect(err.message).not.toContain(leak);
    expect(await wrong.accessLog({ requestId: 'req_w' })).toEqual([
      expect.objectContaining({ outcome: 'failed', version: 1 }),
    ]);
  });

  it('when no master key is configured, then the vault is locked: it lists but refuses to store or read', async () => {
    await createVault({ db: current().db, keyring: keyring(keyA) }).put({
      id: 'billing-token',
      value: CANARY,
      by: 'alice',
    });
    const locked = createVault({ db: current().db });
    await expect(locked.list()).resolves.toHaveLength(1);
    await expect(locked.put({ id: 'other', value: 'x', by: 'alice' })).rejects.toThrow(
      /vault is locked.*COUNTERSIGN_MASTER_KEY/,
    );
    await expect(locked.read('billing-token', { requestId: 'req_l' })).rejects.toThrow(/vault is locked/);
  });

  it('when a ciphertext or wrapped key is altered in the database, then reading fails its integrity check', async () => {
    const vault = createVault({ db: current().db, keyring: keyring(keyA) });
    await vault.put({ id: 'billing-token', value: CANARY, by: 'alice' });
    const db = current().db.withTables<VaultTables>();
    const [row] = await rows();
    const flip = (blob: string) => {
      const parts = blob.split('.');
      const body = Buffer.from(parts[2]!, 'base64url');
      body[0] = body[0]! ^ 0x01;
      parts[2] = body.toString('base64url');
      return parts.join('.');
    };

    await db
      .updateTable('vault_secrets')
      .set({ ciphertext: flip(row!.ciphertext) })
      .execute();
    await expect(vault.read('billing-token', { requestId: 'req_t1' })).rejects.toThrow(/failed its integrity check/);

    await db
      .updateTable('vault_secrets')
      .set({ ciphertext: row!.ciphertext, wrapped_key: flip(row!.wrapped_key) })
      .execute();
    await expect(vault.read('billing-token', { requestId: 'req_t2' })).rejects.toThrow(/failed its integrity check/);

    await db.updateTable('vault_secrets').set({ wrapped_key: row!.wrapped_key }).execute();
    await expect(vault.read('billing-token', { requestId: 'req_t3' })).resolves.toBe(CANARY);
  });

  it('when a record is swapped for another secret or version, then reading fails instead of returning the other value', async () => {
    const vault = createVault({ db: current().db, keyring: keyring(keyA) });
    await vault.put({ id: 'billing-token', value: 'billing-value', by: 'alice' });
    await vault.put({ id: 'mail-password', value: 'mail-value', by: 'alice' });
    const db = current().db.withTables<VaultTables>();
    const [billing, mail] = await rows();

    // Another secret's ciphertext and wrapped key, copied onto this record.
    await db
      .updateTable('vault_secrets')
      .set({ ciphertext: mail!.ciphertext, wrapped_key: mail!.wrapped_key })
      .where('secret_id', '=', 'billing-token')
      .execute();
    await expect(vault.read('billing-token', { requestId: 'req_s1' })).rejects.toThrow(/integrity check/);

    // An old version replayed as the newest one.
    await db
      .updateTable('vault_secrets')
      .set({ ciphertext: billing!.ciphertext, wrapped_key: billing!.wrapped_key })
      .where('secret_id', '=', 'billing-token')
      .execute();
    await vault.rotate({ id: 'billing-token', value: 'billing-value-2', by: 'alice' });
    await db
      .updateTable('vault_secrets')
      .set({ ciphertext: billing!.ciphertext, wrapped_key: billing!.wrapped_key })
      .where('secret_id', '=', 'billing-token')
      .where('version', '=', 2)
      .execute();
    await expect(vault.read('billing-token', { requestId: 'req_s2' })).rejects.toThrow(
      /"billing-token" v2 failed its integrity check/,
    );
  });

  it('when the resolver is asked for a vault secret, then it decrypts for that request, refuses secrets of other domains and never retries a refusal', async () => {
    const vault = createVault({ db: current().db, keyring: keyring(keyA) });
    await vault.put({ id: 'billing-token', value: CANARY, by: 'alice' });
    await vault.put({ id: 'payroll-token', value: 'payroll-value', by: 'alice' });
    const fallback = { resolve: (ref: object) => Promise.resolve(`fallback:${JSON.stringify(ref)}`) };
    const resolver = createVaultCredentialResolver({
      vault,
      fallback,
      allowedSecrets: new Set(['billing-token', 'missing']),
    });

    await expect(resolver.resolve({ secret: 'billing-token' }, 'req_v1')).resolves.toBe(CANARY);
    await expect(resolver.resolve({ env: 'X' }, 'req_v1')).resolves.toBe('fallback:{"env":"X"}');

    const otherDomain = await caught(resolver.resolve({ secret: 'payroll-token' }, 'req_v2'));
    expect(otherDomain).toBeInstanceOf(ApplicationFailure);
    expect(otherDomain).toMatchObject({ type: 'CredentialUnavailable', nonRetryable: true });
    const missing = await caught(resolver.resolve({ secret: 'missing' }, 'req_v3'));
    expect(missing).toMatchObject({ type: 'CredentialUnavailable', nonRetryable: true });

    const log = await vault.accessLog();
    expect(log.map((l) => [l.request_id, l.secret_id, l.outcome]).sort()).toEqual([
      ['req_v1', 'billing-token', 'granted'],
      ['req_v3', 'missing', 'refused'],
    ]);
  });
});

await describeEachDatabase("vault as the token signing keys' protector", (current) => {
  it('when token signing keys are sealed by the vault, then the stored row holds no private key and only the same master key opens it', async () => {
    const master = generateMasterKey();
    const ring = createMasterKeyring(parseMasterKey(master, 'test'));
    const keys = createSigningKeys({
      db: current().db,
      rotateAfterMs: 86_400_000,
      maxTokenTtlMs: 900_000,
      protector: createVaultKeyProtector(ring),
    });
    const signing = await keys.current();
    const row = await current()
      .db.selectFrom('signing_keys')
      .selectAll()
      .where('kid', '=', signing.kid)
      .executeTakeFirstOrThrow();
    expect(row.protection).toBe('vault');
    expect(row.private_key).not.toMatch(/"d"\s*:/);
    const privateJwk = JSON.parse(await createVaultKeyProtector(ring).open(row.private_key, row.kid)) as { d?: string };
    expect(privateJwk.d).toBeDefined();
    expect(row.private_key).not.toContain(privateJwk.d);

    const other = createVaultKeyProtector(createMasterKeyring(parseMasterKey(generateMasterKey(), 'other')));
    await expect(other.open(row.private_key, row.kid)).rejects.toThrow(/not configured/);
    await expect(createVaultKeyProtector(ring).open(row.private_key, 'another-kid')).rejects.toThrow(/integrity check/);
  });

  it('when a process opens the vault from settings, then without a key it is locked and with a bad key it refuses to start', async () => {
    const locked = await openVault(current().db, {});
    await expect(locked.list()).resolves.toEqual([]);
    await expect(locked.put({ id: 'x', value: 'y', by: 'alice' })).rejects.toThrow(/vault is locked/);
    await expect(openVault(current().db, { COUNTERSIGN_MASTER_KEY: 'c2hvcnQ=' })).rejects.toThrow(/exactly 32 bytes/);
    const open = await openVault(current().db, { COUNTERSIGN_MASTER_KEY: generateMasterKey() });
    await expect(open.put({ id: 'x', value: 'y', by: 'alice' })).resolves.toMatchObject({ id: 'x', version: 1 });
  });
});

describe('master key settings', () => {
  it('when no master key is set, then loading fails closed naming both settings', async () => {
    await expect(loadMasterKeyring({})).rejects.toThrow(/COUNTERSIGN_MASTER_KEY .*or COUNTERSIGN_MASTER_KEY_FILE/);
  });

  it('when the key is malformed or the wrong length, then the message names the setting and never echoes the value', async () => {
    const short = Buffer.from('too short a key').toString('base64');
    const err = await caught(loadMasterKeyring({ COUNTERSIGN_MASTER_KEY: short }));
    expect(err.message).toMatch(/COUNTERSIGN_MASTER_KEY must decode to exactly 32 bytes/);
    expect(err.message).not.toContain(short);
    const notBase64 = 'this is not base64 at all!';
    const err2 = await caught(loadMasterKeyring({ COUNTERSIGN_MASTER_KEY: notBase64 }));
    expect(err2.message).toMatch(/not base64/);
    expect(err2.message).not.toContain(notBase64);
  });

  it('when the key comes from a file with retired keys alongside, then every key is known and the file key is current', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-mk-'));
    const current = generateMasterKey();
    const old = generateMasterKey();
    writeFileSync(join(dir, 'master.key'), `${current}\n`);
    const ring = await loadMasterKeyring({
      COUNTERSIGN_MASTER_KEY_FILE: join(dir, 'master.key'),
      COUNTERSIGN_MASTER_KEY_PREVIOUS: old,
    });
    expect(ring.current.id).toBe(parseMasterKey(current, 'x').id);
    expect(ring.get(parseMasterKey(old, 'x').id)).toBeDefined();
    await expect(loadMasterKeyring({ COUNTERSIGN_MASTER_KEY_FILE: join(dir, 'absent.key') })).rejects.toThrow(
      /COUNTERSIGN_MASTER_KEY_FILE cannot be read \(ENOENT\)/,
    );
  });
});

describe('secret ids of credential domains', () => {
  it('when connectors reference vault secrets, then a worker serving them may read exactly those', () => {
    const config = testConfig({ targetHost: '127.0.0.1:9' });
    const billing = config.connectors.billing!;
    config.connectors.billing = { ...billing, credential: { secret: 'billing-token' } };
    expect([...secretIdsFor(config, ['billing'])]).toEqual(['billing-token']);
    expect([...secretIdsFor(config, [])]).toEqual([]);
  });
});
