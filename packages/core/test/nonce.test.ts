import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NonceIssuer } from '../src/dpop/nonce.js';

const SECRET = new TextEncoder().encode('n'.repeat(32));
const LIFETIME_SECONDS = 300;
const STEP_MS = LIFETIME_SECONDS * 1000;
/** The start of a time step (epoch ms). */
const STEP_START = 5_000_000 * STEP_MS;

/** The nonce of `step` as the module documents it: base36 step, a dot, base64url HMAC-SHA256. */
function expectedNonce(step: number, secret: Uint8Array = SECRET): string {
  const text = step.toString(36);
  return `${text}.${createHmac('sha256', secret).update(`certbound-dpop-nonce:${text}`).digest('base64url')}`;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('NonceIssuer', () => {
  it('issues one nonce per time step: the base36 step and the HMAC of it, all NQCHAR', () => {
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    const step = STEP_START / STEP_MS;
    const nonce = issuer.current(STEP_START);
    expect(nonce).toBe(expectedNonce(step));
    expect(nonce).toMatch(/^[0-9a-z]{1,12}\.[A-Za-z0-9_-]{43}$/);
    expect(issuer.current(STEP_START + STEP_MS - 1)).toBe(nonce);
    expect(issuer.current(STEP_START + STEP_MS)).toBe(expectedNonce(step + 1));
  });

  it('reads the clock when no time is given', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: STEP_START + 1234 });
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    expect(issuer.current()).toBe(expectedNonce(STEP_START / STEP_MS));
    expect(issuer.accepts(issuer.current())).toBe(true);
    vi.setSystemTime(STEP_START + 2 * STEP_MS);
    expect(issuer.accepts(expectedNonce(STEP_START / STEP_MS))).toBe(false);
  });

  it('accepts a nonce of this step and of the previous one, and refuses one two steps old', () => {
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    const nonce = issuer.current(STEP_START);
    expect(issuer.accepts(nonce, STEP_START)).toBe(true);
    expect(issuer.accepts(nonce, STEP_START + STEP_MS - 1)).toBe(true);
    expect(issuer.accepts(nonce, STEP_START + STEP_MS)).toBe(true);
    expect(issuer.accepts(nonce, STEP_START + 2 * STEP_MS - 1)).toBe(true);
    expect(issuer.accepts(nonce, STEP_START + 2 * STEP_MS)).toBe(false);
    expect(issuer.accepts(nonce, STEP_START + 10 * STEP_MS)).toBe(false);
  });

  it('keeps a nonce usable at least lifetimeSeconds and at most twice that after it was issued', () => {
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    const late = issuer.current(STEP_START + STEP_MS - 1);
    expect(issuer.accepts(late, STEP_START + STEP_MS - 1 + STEP_MS)).toBe(true);
    const early = issuer.current(STEP_START);
    expect(issuer.accepts(early, STEP_START + 2 * STEP_MS - 1)).toBe(true);
    expect(issuer.accepts(early, STEP_START + 2 * STEP_MS)).toBe(false);
  });

  it('refuses a nonce from a future step', () => {
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    expect(issuer.accepts(expectedNonce(STEP_START / STEP_MS + 1), STEP_START)).toBe(false);
  });

  it('accepts a nonce issued by another instance sharing the secret, and none made with another secret', () => {
    const one = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    const other = new NonceIssuer(new Uint8Array(SECRET), LIFETIME_SECONDS);
    expect(other.accepts(one.current(STEP_START), STEP_START)).toBe(true);
    const stranger = new NonceIssuer(new TextEncoder().encode('m'.repeat(32)), LIFETIME_SECONDS);
    expect(one.accepts(stranger.current(STEP_START), STEP_START)).toBe(false);
  });

  it('refuses forged nonces: the HMAC changed, another step under the same HMAC, or odd shapes', () => {
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    const nonce = issuer.current(STEP_START);
    const [step, mac] = nonce.split('.') as [string, string];
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    const previous = (STEP_START / STEP_MS - 1).toString(36);
    for (const forged of [
      `${step}.${flipped}`,
      `${previous}.${mac}`,
      `${step.toUpperCase()}.${mac}`,
      `${step}.${mac}=`,
      `${step}.${mac}A`,
      `${step}.${mac.slice(1)}`,
      `${step}${mac}`,
      ` ${nonce}`,
      `${nonce}\n`,
      `${step}.${Buffer.from(mac, 'base64url').toString('base64')}`,
      `0000000000000.${mac}`,
      '',
    ]) {
      expect(issuer.accepts(forged, STEP_START)).toBe(false);
    }
  });

  it('refuses a nonce that is not a string', () => {
    const issuer = new NonceIssuer(SECRET, LIFETIME_SECONDS);
    for (const value of [
      undefined,
      null,
      42,
      { nonce: issuer.current(STEP_START) },
      [issuer.current(STEP_START)],
    ]) {
      expect(issuer.accepts(value, STEP_START)).toBe(false);
    }
  });

  it('steps with its own lifetime', () => {
    const issuer = new NonceIssuer(SECRET, 60);
    const nonce = issuer.current(0);
    expect(nonce).toBe(expectedNonce(0));
    expect(issuer.accepts(nonce, 119_999)).toBe(true);
    expect(issuer.accepts(nonce, 120_000)).toBe(false);
  });
});
