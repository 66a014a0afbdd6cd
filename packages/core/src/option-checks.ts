/** Small validators for start-up options; each failure throws a TypeError naming the option. */
import { isAllowedUrl } from './url-policy.js';

export function fail(name: string, expectation: string): never {
  throw new TypeError(`Invalid certbound option: "${name}" must be ${expectation}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(name, 'a non-empty string');
  return value;
}

/** An https URL (http only on loopback, for development), without a fragment. */
export function httpsUrl(value: unknown, name: string): string {
  const text = nonEmptyString(value, name);
  // WHATWG URL parsing drops tabs and line breaks; the text itself goes into headers, so no spaces or controls.
  if (!URL.canParse(text) || !/^[\x21-\x7E]+$/.test(text)) fail(name, 'an absolute https URL');
  if (!isAllowedUrl(text)) fail(name, 'an https URL without a fragment (http is allowed only for localhost)');
  return text;
}

export function stringList(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) fail(name, 'a non-empty string or array of strings');
  for (const item of list)
    if (typeof item !== 'string' || item.length === 0) fail(name, 'made of non-empty strings');
  return [...list];
}

export function positiveNumber(
  value: unknown,
  name: string,
  fallback: number,
  integer = false,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const what = integer ? 'a positive integer' : 'a positive number';
    fail(name, max === Number.MAX_SAFE_INTEGER ? what : `${what} up to ${max}`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) fail(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return value as T;
}
