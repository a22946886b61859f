// `Date.prototype.toISOString` for the decision record, computed in JavaScript: V8's own is a runtime call that cost a
// quarter of a policy decision. Same string for every date from 1970 to 9999; any other value (earlier or later years,
// an invalid date, anything but a plain Date) goes to `toISOString` itself, which formats it or throws as it always did.

const MS_PER_DAY = 86_400_000;
/** 9999-12-31T23:59:59.999Z, the last instant with a four-digit year. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** The date's ISO 8601 form, exactly as `date.toISOString()` gives it. */
export function isoTime(date: Date): string {
  // A subclass may format itself differently: only a plain Date takes the fast path.
  if (Object.getPrototypeOf(date) !== Date.prototype) return date.toISOString();
  const ms = date.getTime();
  if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS)) return date.toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted), for non-negative days.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}
