import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/policy/iso-time';

const MS_PER_DAY = 86_400_000;

describe('decision time in ISO 8601', () => {
  it('when a date from 1970 to 9999 is formatted, then the string is the one toISOString gives', () => {
    const mismatches: string[] = [];
    const check = (ms: number) => {
      const date = new Date(ms);
      if (isoTime(date) !== date.toISOString()) mismatches.push(`${ms}: ${isoTime(date)} ≠ ${date.toISOString()}`);
    };
    // Every fifth day of the range (all months, leap days and century years), at a time of day that moves along.
    for (let day = 0; day <= 2_932_896; day += 5) check(day * MS_PER_DAY + ((day * 7_919_191) % MS_PER_DAY));
    for (const ms of [0, 1, 999, 59_999, MS_PER_DAY - 1, 951_782_400_000, 951_868_800_000, 4_107_542_400_000])
      check(ms);
    check(253_402_300_799_999); // 9999-12-31T23:59:59.999Z
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('when a date lies outside four-digit years after 1970, then toISOString itself formats it', () => {
    for (const ms of [-1, -62_198_755_200_000, 253_402_300_800_000, 8.64e15, -8.64e15]) {
      expect(isoTime(new Date(ms))).toBe(new Date(ms).toISOString());
    }
  });

  it('when the date is invalid, then it throws the RangeError toISOString throws', () => {
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('when the date is a subclass with its own format, then its own toISOString is used', () => {
    class Stamp extends Date {
      override toISOString(): string {
        return 'stamp';
      }
    }
    expect(isoTime(new Stamp(0))).toBe('stamp');
  });
});
