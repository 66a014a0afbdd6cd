/**
 * `exp`, `nbf` and `iat` (RFC 7519 §4.1.4–6, NumericDate: seconds since the epoch) as an ISO date
 * and a phrase relative to now: "expired 5 minutes ago", "expires in 4 minutes".
 */

export type TimeClaim = 'exp' | 'nbf' | 'iat';

export const TIME_CLAIMS: readonly TimeClaim[] = ['exp', 'nbf', 'iat'];

export interface TimeDescription {
  /** ISO 8601, UTC. */
  date: string;
  /** `expires in 4 minutes`, `expired 2 hours ago`, … */
  relative: string;
  /** Positive in the future. */
  secondsFromNow: number;
}

/** Largest time a JavaScript Date can hold, in ms (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

/** `5 minutes`: the largest unit that still reads naturally, rounded. */
export function duration(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const whole = Math.round(seconds);
  if (whole < 60) return plural(whole, 'second');
  const minutes = Math.round(whole / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(whole / 3600);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.round(whole / 86_400), 'day');
}

function phrase(claim: TimeClaim, fromNow: number): string {
  const span = duration(Math.abs(fromNow));
  const future = fromNow > 0;
  switch (claim) {
    case 'exp':
      return future ? `expires in ${span}` : `expired ${span} ago`;
    case 'nbf':
      return future ? `not valid yet: valid in ${span}` : `valid since ${span} ago`;
    case 'iat':
      return future ? `issued in the future: in ${span}` : `issued ${span} ago`;
  }
}

/** The date and relative phrase of a time claim, or `undefined` if `value` is not a NumericDate. */
export function describeTime(claim: TimeClaim, value: unknown, nowMs: number): TimeDescription | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const ms = value * 1000;
  if (Math.abs(ms) > MAX_DATE_MS) return undefined;
  const secondsFromNow = Math.round(value - nowMs / 1000);
  return { date: new Date(ms).toISOString(), relative: phrase(claim, secondsFromNow), secondsFromNow };
}
