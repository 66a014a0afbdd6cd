import { vi } from 'vitest';
import { FAILURE_HOLD_DOWN_MS } from '../../src/authorization-server/http-client.js';

/**
 * Moves the clock past the outbound client's hold-down after a failure (fake `Date`, no
 * sleeping), then makes one attempt: after an outage the verifier must recover by itself at the
 * first call once the hold-down is over. Call `vi.useRealTimers()` after the test.
 */
export function afterHoldDown<T>(attempt: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + FAILURE_HOLD_DOWN_MS });
  return attempt();
}
