import { CertboundError } from '@certbound/core';
import { expect } from 'vitest';

/** Retries `attempt` until it resolves (the verifier fails fast for a moment after an outage). */
export async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The CertboundError `promise` rejects with (it must reject with one). */
export async function failure(promise: Promise<unknown>): Promise<CertboundError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CertboundError);
    return error as CertboundError;
  }
  throw new Error('expected a rejection');
}
