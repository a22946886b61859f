// The identity composition of a process (src/app/identity.ts) over a real SQLite data directory: dev mode makes up the
// master key and every person's operator token (files 0600, reused across restarts); a master key set after tokens were
// issued seals a new signing key, while a process without the master key refuses to start on a sealed one; the JWKS
// lists the current and the next key from the first start.
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../src/app/core';
import {
  devMasterKeyPath,
  devOperatorTokensDir,
  ensureDevOperators,
  readDevOperatorToken,
} from '../../src/app/dev-identity';
import { openIdentityRuntime } from '../../src/app/identity';
import { loadSettings } from '../../src/config/settings';
import { createLogger } from '../../src/logger';
import { generateMasterKey } from '../../src/vault';

const logger = createLogger({ level: 'silent' });

describe('identity runtime of a process', () => {
  it('when dev mode starts twice, then the master key and operator tokens are made once, private, and still work', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-runtime-dev-'));
    const settings = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir });
    const core = loadCore(settings);

    const first = await openIdentityRuntime({ settings, core, logger, devMode: true });
    await ensureDevOperators(first.identity, core.config, dataDir, logger);
    expect(first.vaultUnlocked).toBe(true);
    await first.vault.put({ id: 'demo', value: 'kept-across-restarts', by: 'test' });
    const key = readFileSync(devMasterKeyPath(dataDir), 'utf8');
    const tokens = readdirSync(devOperatorTokensDir(dataDir)).sort();
    expect(tokens).toEqual(Object.keys(core.config.people).sort());
    expect(statSync(devMasterKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(devOperatorTokensDir(dataDir), 'alice')).mode & 0o777).toBe(0o600);
    const alice = readDevOperatorToken(dataDir, 'alice');
    await first.close();

    const second = await openIdentityRuntime({ settings, core, logger, devMode: true });
    try {
      await ensureDevOperators(second.identity, core.config, dataDir, logger);
      expect(readFileSync(devMasterKeyPath(dataDir), 'utf8')).toBe(key);
      expect(readDevOperatorToken(dataDir, 'alice')).toEqual(alice);
      expect(await second.identity.authenticator.authenticate(`Bearer ${alice?.token}`)).toEqual({
        kind: 'operator',
        id: 'alice',
      });
      expect(await second.vault.read('demo', { requestId: 'req_runtime' })).toBe('kept-across-restarts');
      // Without --as the CLI takes the first person by id.
      expect(readDevOperatorToken(dataDir)?.person).toBe('alice');
    } finally {
      await second.close();
    }
  });

  it('when a process outside dev mode has no master key and payload encryption is on, then it refuses to start naming the key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-runtime-codec-'));
    const settings = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir });
    expect(settings.COUNTERSIGN_PAYLOAD_ENCRYPTION).toBe('on');
    await expect(
      openIdentityRuntime({ settings, core: loadCore(settings), logger, devMode: false }),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('payload encryption') as unknown,
      errors: [expect.objectContaining({ path: 'COUNTERSIGN_MASTER_KEY' })],
    });
  });

  it('when a master key is set after tokens were issued, then a new signing key takes over and old tokens still verify', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-runtime-prod-'));
    const plain = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_PAYLOAD_ENCRYPTION: 'off' });
    const core = loadCore(plain);

    const before = await openIdentityRuntime({ settings: plain, core, logger, devMode: false });
    expect(before.vaultUnlocked).toBe(false);
    // Outside dev mode without a master key the vault stays locked: storing fails closed, naming the setting.
    await expect(before.vault.put({ id: 'anything', value: 'x', by: 'test' })).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('COUNTERSIGN_MASTER_KEY') as unknown,
    });
    const agent = await before.identity.registry.get('support-bot');
    const old = await before.identity.tokens.issueFor(agent!);
    await before.close();

    const sealed = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_MASTER_KEY: generateMasterKey() });
    const after = await openIdentityRuntime({ settings: sealed, core, logger, devMode: false });
    try {
      expect(after.vaultUnlocked).toBe(true);
      const fresh = await after.identity.tokens.issueFor(agent!);
      expect(fresh.kid).not.toBe(old.kid);
      await expect(after.identity.tokens.verify(old.accessToken)).resolves.toMatchObject({ kid: old.kid });
      await expect(after.identity.tokens.verify(fresh.accessToken)).resolves.toMatchObject({ kid: fresh.kid });
      const rows = await after.database.db.selectFrom('signing_keys').select(['kid', 'protection']).execute();
      expect(rows.find((r) => r.kid === fresh.kid)?.protection).toBe('vault');
    } finally {
      await after.close();
    }
  });

  it('when a process without the master key opens a database whose signing key is sealed, then it refuses to start and the key stays', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-runtime-refuse-'));
    const sealedSettings = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_MASTER_KEY: generateMasterKey() });
    const core = loadCore(sealedSettings);
    const sealed = await openIdentityRuntime({ settings: sealedSettings, core, logger, devMode: false });
    try {
      const agent = await sealed.identity.registry.get('support-bot');
      const issued = await sealed.identity.tokens.issueFor(agent!);
      const keysBefore = await sealed.database.db.selectFrom('signing_keys').selectAll().orderBy('kid').execute();

      const plain = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_PAYLOAD_ENCRYPTION: 'off' });
      await expect(openIdentityRuntime({ settings: plain, core, logger, devMode: false })).rejects.toMatchObject({
        code: 'config_invalid',
        errors: [expect.objectContaining({ path: 'COUNTERSIGN_MASTER_KEY' })],
      });

      expect(await sealed.database.db.selectFrom('signing_keys').selectAll().orderBy('kid').execute()).toEqual(
        keysBefore,
      );
      const again = await sealed.identity.tokens.issueFor(agent!);
      expect(again.kid).toBe(issued.kid);
      await expect(sealed.identity.tokens.verify(again.accessToken)).resolves.toMatchObject({ kid: issued.kid });
    } finally {
      await sealed.close();
    }
  });

  it('when a process starts on an empty database, then the JWKS lists the current and the next key before any token, and the next one signs after rotation', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-runtime-jwks-'));
    const settings = loadSettings({ COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_PAYLOAD_ENCRYPTION: 'off' });
    const core = loadCore(settings);
    const runtime = await openIdentityRuntime({ settings, core, logger, devMode: false });
    try {
      const { keys } = await runtime.identity.signingKeys.jwks();
      expect(keys).toHaveLength(2);
      const agent = await runtime.identity.registry.get('support-bot');
      const first = await runtime.identity.tokens.issueFor(agent!);
      expect(keys.map((k) => k.kid)).toContain(first.kid);
      const next = keys.find((k) => k.kid !== first.kid)!;

      await runtime.identity.signingKeys.rotate();
      const second = await runtime.identity.tokens.issueFor(agent!);
      expect(second.kid).toBe(next.kid);
      const after = (await runtime.identity.signingKeys.jwks()).keys.map((k) => k.kid);
      // The old key until its tokens expire, the current one, and a new next one.
      expect(after).toHaveLength(3);
      expect(after).toEqual(expect.arrayContaining([first.kid, next.kid]));
      await expect(runtime.identity.tokens.verify(first.accessToken)).resolves.toMatchObject({ kid: first.kid });
    } finally {
      await runtime.close();
    }
  });
});
