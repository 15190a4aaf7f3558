// Format checks and helpers used by the compiled validators, so they need no run-time dependency.

const DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const TIME = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function date(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const year = +match[1]!;
  const month = +match[2]!;
  const day = +match[3]!;
  return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && isLeapYear(year) ? 29 : DAYS[month]!);
}

function time(text: string, requireZone: boolean): boolean {
  const match = TIME.exec(text);
  if (!match) return false;
  const hours = +match[1]!;
  const minutes = +match[2]!;
  const seconds = +match[3]!;
  const zone = match[4];
  if (requireZone && !zone) return false;
  const sign = match[5] === '-' ? -1 : 1;
  const zoneHours = +(match[6] || 0);
  const zoneMinutes = +(match[7] || 0);
  if (zoneHours > 23 || zoneMinutes > 59) return false;
  if (hours <= 23 && minutes <= 59 && seconds < 60) return true;
  // Leap second: 23:59:60 UTC.
  const utcMinutes = minutes - zoneMinutes * sign;
  const utcHours = hours - zoneHours * sign - (utcMinutes < 0 ? 1 : 0);
  return (utcHours === 23 || utcHours === -1) && (utcMinutes === 59 || utcMinutes === -1) && seconds < 61;
}

const DATE_TIME_SEPARATOR = /t|\s/i;

/** A date, one separator (T or a space), a time. A second separator fails the time's own pattern. */
function dateTime(text: string, requireZone: boolean): boolean {
  if (isPlainDateTime(text)) return true;
  const separator = text.search(DATE_TIME_SEPARATOR);
  return separator > 0 && date(text.slice(0, separator)) && time(text.slice(separator + 1), requireZone);
}

const ZERO = 48;

/** The two-digit number at `at`, or NaN when either character is not an ASCII digit. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const units = text.charCodeAt(at + 1) - ZERO;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : NaN;
}

/**
 * The common shape, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, checked without a regular expression
 * (most events carry their times this way). True only when it is valid; anything else (another shape,
 * a leap second, an out-of-range field) goes the general way, which has the last word.
 */
function isPlainDateTime(text: string): boolean {
  if (text.length < 20 || text[4] !== '-' || text[7] !== '-' || (text[10] !== 'T' && text[10] !== 't')) return false;
  if (text[13] !== ':' || text[16] !== ':') return false;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  if (Number.isNaN(year)) return false;
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && isLeapYear(year) ? 29 : DAYS[month]!)))
    return false;
  if (!(twoDigits(text, 11) <= 23 && twoDigits(text, 14) <= 59 && twoDigits(text, 17) <= 59)) return false;
  let at = 19;
  if (text[at] === '.') {
    const start = ++at;
    while (at < text.length && text.charCodeAt(at) >= ZERO && text.charCodeAt(at) <= ZERO + 9) at++;
    if (at === start) return false;
  }
  const zone = text[at];
  if (zone === 'Z' || zone === 'z') return at + 1 === text.length;
  return (
    (zone === '+' || zone === '-') &&
    at + 6 === text.length &&
    text[at + 3] === ':' &&
    twoDigits(text, at + 1) <= 23 &&
    twoDigits(text, at + 4) <= 59
  );
}

const NOT_URI_FRAGMENT = /\/|:/;
const URI =
  /^(?:[a-z][a-z0-9+\-.]*:)(?:\/?\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\]|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::\d*)?(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)(?:\?(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?$/i;
const BYTE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MIN_INT32 = -(2 ** 31);
const MAX_INT32 = 2 ** 31 - 1;

export const formats = {
  date: { validate: date },
  time: { validate: (text: string) => time(text, true) },
  'date-time': { validate: (text: string) => dateTime(text, true) },
  'iso-time': { validate: (text: string) => time(text, false) },
  'iso-date-time': { validate: (text: string) => dateTime(text, false) },
  uri: (text: string) => NOT_URI_FRAGMENT.test(text) && URI.test(text),
  regex: (text: string) => {
    if (/[^\\]\\Z/.test(text)) return false;
    try {
      new RegExp(text, 'u');
      return true;
    } catch {
      return false;
    }
  },
  byte: (text: string) => BYTE.test(text),
  int32: { validate: (value: number) => Number.isInteger(value) && value <= MAX_INT32 && value >= MIN_INT32 },
  int64: { validate: (value: number) => Number.isInteger(value) },
  float: { validate: () => true },
  double: { validate: () => true },
  password: true,
  binary: true,
};

/** Length in Unicode code points, as JSON Schema counts string length. */
export function ucs2length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    length++;
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if ((next & 0xfc00) === 0xdc00) i++;
    }
  }
  return length;
}

/** Deep equality of JSON values, for `const`, `enum` and `uniqueItems`. */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (Array.isArray(a)) {
      const other = b as unknown[];
      return a.length === other.length && a.every((item, i) => equal(item, other[i]));
    }
    const left = a as Record<string, unknown>;
    const right = b as Record<string, unknown>;
    const keys = Object.keys(left);
    if (keys.length !== Object.keys(right).length) return false;
    return keys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && equal(left[key], right[key]));
  }
  return a !== a && b !== b;
}
