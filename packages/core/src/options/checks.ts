/**
 * Readers for start-up options: each takes the given value (`undefined` when absent) and the
 * option's dotted name, and returns the normalized value or throws a TypeError naming the option
 * (`Invalid certbound option: "<name>" must be …`).
 */
import { isAllowedUrl } from '../authorization-server/url-policy.js';

/** Reads one option: the value given (`undefined` when absent) into its normalized value. */
export type Reader<T> = (value: unknown, name: string) => T;

export function fail(name: string, expectation: string): never {
  throw new TypeError(`Invalid certbound option: "${name}" must be ${expectation}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `read`, or `undefined` when the option is absent. */
export function optional<T>(read: Reader<T>): Reader<T | undefined> {
  return (value, name) => (value === undefined ? undefined : read(value, name));
}

/** `read`, or `fallback` when the option is absent. */
export function withDefault<T>(fallback: () => T, read: Reader<T>): Reader<T> {
  return (value, name) => (value === undefined ? fallback() : read(value, name));
}

export const nonEmptyString: Reader<string> = (value, name) => {
  if (typeof value !== 'string' || value.length === 0) fail(name, 'a non-empty string');
  return value;
};

/** An https URL (http only on loopback, for development), without a fragment. */
export const httpsUrl: Reader<string> = (value, name) => {
  const text = nonEmptyString(value, name);
  // WHATWG URL parsing drops tabs and line breaks; the text itself goes into headers, so no spaces or controls.
  if (!URL.canParse(text) || !/^[\x21-\x7E]+$/.test(text)) fail(name, 'an absolute https URL');
  if (!isAllowedUrl(text)) fail(name, 'an https URL without a fragment (http is allowed only for localhost)');
  return text;
};

/** A non-empty string or array of non-empty strings, as an array. */
export const stringList: Reader<string[]> = (value, name) => {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) fail(name, 'a non-empty string or array of strings');
  for (const item of list)
    if (typeof item !== 'string' || item.length === 0) fail(name, 'made of non-empty strings');
  return [...list];
};

/** A positive (integer) number up to `max`, or `fallback` when absent. */
export function positiveNumber(
  fallback: number,
  { integer = false, max = Number.MAX_SAFE_INTEGER }: { integer?: boolean; max?: number } = {},
): Reader<number> {
  return (value, name) => {
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
  };
}

/** One of `allowed`, or `fallback` when absent. */
export function oneOf<T extends string>(allowed: readonly T[], fallback: T): Reader<T> {
  return (value, name) => {
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) fail(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    return value as T;
  };
}

/** An integer from `min` to `max`, or `fallback` when absent. */
export function integerIn(fallback: number, min: number, max: number): Reader<number> {
  return (value, name) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      fail(name, `an integer from ${min} to ${max}`);
    }
    return value;
  };
}
