// The sealed parameters store on both databases: values open only for their own request, submit and path; erasure at
// the end (at once or after the retention) and by the sweep past the absolute expiry.
import { expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import {
  createMasterKeyring,
  createSealedParams,
  generateMasterKey,
  parseMasterKey,
  sealedRef,
  type SealedParamTables,
} from '../../src/vault';
import { describeEachDatabase, manualClock } from '../identity/databases';

const keyring = createMasterKeyring(parseMasterKey(generateMasterKey(), 'test master key'));
const HOUR = 3600_000;

await describeEachDatabase('sealed parameters', (current) => {
  it('when references are opened, then the real values come back in place and the rows hold only ciphertext', async () => {
    const store = createSealedParams({ db: current().db, keyring });
    const later = new Date(Date.now() + HOUR);
    await store.put(
      'req-1',
      'sp_a',
      [
        { path: ['pin'], value: 'pin-1234-canary' },
        { path: ['card', 'items', 0], value: { cvc: 123 } },
      ],
      later,
    );
    const opened = await store.open('req-1', {
      amount: 5,
      pin: sealedRef('sp_a'),
      card: { items: [sealedRef('sp_a')] },
    });
    expect(opened.params).toEqual({ amount: 5, pin: 'pin-1234-canary', card: { items: [{ cvc: 123 }] } });
    const rows = await current().db.withTables<SealedParamTables>().selectFrom('sealed_params').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('pin-1234-canary');
    expect(rows.map((r) => r.path).sort()).toEqual(['/card/items/0', '/pin']);
  });

  it('when a row is copied onto another request or path, then it does not open', async () => {
    const store = createSealedParams({ db: current().db, keyring });
    await store.put('req-1', 'sp_a', [{ path: ['pin'], value: 'pin-1234' }], new Date(Date.now() + HOUR));
    const db = current().db.withTables<SealedParamTables>();
    const [row] = await db.selectFrom('sealed_params').selectAll().execute();
    if (!row) throw new Error('no row');
    await db
      .insertInto('sealed_params')
      .values({ ...row, request_id: 'req-2' })
      .execute();
    await db
      .insertInto('sealed_params')
      .values({ ...row, path: '/other' })
      .execute();
    await expect(store.open('req-2', { pin: sealedRef('sp_a') })).rejects.toBeInstanceOf(AppError);
    await expect(store.open('req-1', { other: sealedRef('sp_a') })).rejects.toBeInstanceOf(AppError);
    await expect(store.open('req-1', { pin: sealedRef('sp_b') })).rejects.toThrow(/no longer held/);
  });

  it('when the request ends, then its values are erased at once, or after the retention by the sweep', async () => {
    const clock = manualClock();
    const store = createSealedParams({ db: current().db, keyring, now: clock.now });
    const expiry = new Date(clock.now().getTime() + 48 * HOUR);
    await store.put('req-now', 'sp_a', [{ path: ['pin'], value: 'x1' }], expiry);
    await store.put('req-kept', 'sp_b', [{ path: ['pin'], value: 'x2' }], expiry);
    expect(await store.ended('req-now', 0)).toBe(1);
    expect(await store.count('req-now')).toBe(0);
    await store.ended('req-kept', HOUR);
    expect(await store.sweep()).toBe(0);
    expect(await store.count('req-kept')).toBe(1);
    clock.advance(HOUR + 1);
    await expect(store.open('req-kept', { pin: sealedRef('sp_b') })).rejects.toThrow(/no longer held/);
    expect(await store.sweep()).toBe(1);
    expect(await store.count('req-kept')).toBe(0);
  });

  it('when a request never reports its end, then the sweep erases it past its absolute expiry', async () => {
    const clock = manualClock();
    const store = createSealedParams({ db: current().db, keyring, now: clock.now });
    await store.put('req-lost', 'sp_a', [{ path: ['pin'], value: 'x' }], new Date(clock.now().getTime() + HOUR));
    expect(await store.sweep()).toBe(0);
    clock.advance(HOUR);
    expect(await store.sweep()).toBe(1);
  });

  it('when the vault is locked, then nothing is sealed or opened', async () => {
    const store = createSealedParams({ db: current().db });
    expect(store.unlocked).toBe(false);
    await expect(store.put('r', 's', [{ path: ['pin'], value: 'x' }], new Date())).rejects.toMatchObject({
      code: 'not_ready',
    });
    await expect(store.open('r', { pin: sealedRef('s') })).rejects.toMatchObject({ code: 'not_ready' });
  });
});
