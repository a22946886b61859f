import { describe, expect, it } from 'vitest';
import { canonicalJson, paramsHash } from '../../src/canonical';

describe('canonical parameters hash', () => {
  it('when only the key order differs, then the canonical JSON and the hash are the same', () => {
    const a = { paymentId: 'pay_abcd', amount: 1500, currency: 'USD', meta: { b: 2, a: [1, { y: 1, x: 2 }] } };
    const b = { meta: { a: [1, { x: 2, y: 1 }], b: 2 }, currency: 'USD', amount: 1500, paymentId: 'pay_abcd' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe(
      '{"amount":1500,"currency":"USD","meta":{"a":[1,{"x":2,"y":1}],"b":2},"paymentId":"pay_abcd"}',
    );
    expect(paramsHash(a)).toBe(paramsHash(b));
    expect(paramsHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('when a value, an array order or a type differs, then the hash differs', () => {
    const base = paramsHash({ amount: 1500, tags: ['a', 'b'] });
    expect(paramsHash({ amount: 1501, tags: ['a', 'b'] })).not.toBe(base);
    expect(paramsHash({ amount: 1500, tags: ['b', 'a'] })).not.toBe(base);
    expect(paramsHash({ amount: '1500', tags: ['a', 'b'] })).not.toBe(base);
  });

  it('when numbers are written differently but are equal, then RFC 8785 gives them one form', () => {
    expect(canonicalJson({ n: 1.0, m: 1e3 })).toBe('{"m":1000,"n":1}');
  });
});
