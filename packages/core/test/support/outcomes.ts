/** Capturing what a call throws, so that a test fails when nothing is thrown. */
import { CertboundError } from '@certbound/core';
import { expect } from 'vitest';

/** What `run` throws; the test fails if it returns. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, but the call returned');
}

/** The CertboundError `run` throws (it must throw one). */
export function rejectionOf(run: () => unknown): CertboundError {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(CertboundError);
  return error as CertboundError;
}

/**
 * The code of the error `run` throws (a CertboundError, or the given subclass of it), or
 * `'accepted'` when it returns.
 */
export function outcomeOf(
  run: () => unknown,
  kind: abstract new (...args: never[]) => CertboundError = CertboundError,
): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(kind);
    return (error as CertboundError).code;
  }
  return 'accepted';
}

/** The code of the CertboundError `promise` rejects with, or `'accepted'` when it resolves. */
export async function asyncOutcomeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CertboundError);
    return (error as CertboundError).code;
  }
  return 'accepted';
}

/**
 * The CertboundError `promise` rejects with (it must reject with one); or, given a function, the
 * one it throws or its result rejects with (for calls that may refuse without a promise).
 */
export async function failure(promise: Promise<unknown> | (() => unknown)): Promise<CertboundError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(CertboundError);
    return error as CertboundError;
  }
  throw new Error('expected a rejection');
}
