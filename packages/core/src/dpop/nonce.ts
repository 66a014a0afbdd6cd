/**
 * Resource-server nonces (RFC 9449 §9), stateless: a nonce is a time step and an HMAC of it under
 * the shared secret, so every instance with the secret issues and accepts the same nonces without
 * storing any. A nonce issued during step n is accepted during steps n and n + 1: at least
 * `lifetimeSeconds` and at most twice that after it was issued.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `nonce = 1*NQCHAR` (RFC 9449 §8.1): base36 step, a dot, base64url HMAC — all NQCHAR. */
const NONCE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;

export class NonceIssuer {
  readonly #secret: Uint8Array;
  readonly #stepMs: number;
  #current: { step: number; nonce: string } | undefined;

  constructor(secret: Uint8Array, lifetimeSeconds: number) {
    this.#secret = secret;
    this.#stepMs = lifetimeSeconds * 1000;
  }

  /** The nonce to hand out now (the same for the whole time step). */
  current(now = Date.now()): string {
    const step = Math.floor(now / this.#stepMs);
    if (this.#current?.step !== step) this.#current = { step, nonce: this.#nonceFor(step) };
    return this.#current.nonce;
  }

  /** Whether `nonce` was issued during this time step or the previous one. */
  accepts(nonce: unknown, now = Date.now()): boolean {
    if (typeof nonce !== 'string') return false;
    const match = NONCE.exec(nonce);
    if (match === null) return false;
    const step = Number.parseInt(match[1]!, 36);
    const currentStep = Math.floor(now / this.#stepMs);
    if (step !== currentStep && step !== currentStep - 1) return false;
    const expected = Buffer.from(this.#nonceFor(step), 'latin1');
    const given = Buffer.from(nonce, 'latin1');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  #nonceFor(step: number): string {
    const text = step.toString(36);
    return `${text}.${createHmac('sha256', this.#secret).update(`certbound-dpop-nonce:${text}`).digest('base64url')}`;
  }
}
