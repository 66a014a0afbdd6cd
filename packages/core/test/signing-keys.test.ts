import { createTestIssuer, type TestIssuer } from '@certbound/testing';
import { type JWSHeaderParameters, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthorizationServer } from '../src/authorization-server/authorization-server.js';
import { FAILURE_HOLD_DOWN_MS } from '../src/authorization-server/http-client.js';
import { InvalidTokenError, ServiceUnavailableError } from '../src/errors.js';
import {
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  JWKS_STALE_IF_ERROR_SECONDS,
  localKeys,
  remoteKeys,
  secretKey,
} from '../src/jwt/signing-keys.js';
import { failure } from './support/outcomes.js';

let issuer: TestIssuer;
const servers: AuthorizationServer[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256', 'RS256'] });
});

afterEach(async () => {
  issuer.outage('none');
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

afterAll(() => issuer.close());

/** The header of the issuer's `index`th key. */
function headerOf(index: number): JWSHeaderParameters {
  const jwk = issuer.jwks.keys[index]!;
  return { alg: jwk.alg!, kid: jwk.kid! };
}

/** Remote keys of the test issuer, found through discovery (or the configured `jwksUri`). */
function remote(jwksUri?: string) {
  const server = new AuthorizationServer({
    issuer: issuer.issuer,
    jwksUri,
    introspectionEndpoint: undefined,
    tls: { ca: issuer.ca },
    timeoutMs: 500,
  });
  servers.push(server);
  return remoteKeys(server, 500);
}

/** The whole refusal of a token whose key is unknown. */
async function expectUnknownKey(lookup: Promise<unknown>): Promise<void> {
  const error = await failure(lookup);
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect(error).toMatchObject({ status: 401, error: 'invalid_token', code: 'token_signature_invalid' });
}

describe('localKeys', () => {
  it('finds the key a token was signed with, by kid and alg', async () => {
    const token = await issuer.mintAccessToken({ alg: 'RS256' });
    const { payload, protectedHeader } = await jwtVerify(token, localKeys(issuer.jwks));
    expect(payload.iss).toBe(issuer.issuer);
    expect(protectedHeader.kid).toBe(headerOf(1).kid);
  });

  it('refuses a header naming a key the set does not have as token_signature_invalid', async () => {
    const keys = localKeys(issuer.jwks);
    await expectUnknownKey(keys({ alg: 'ES256', kid: 'no-such-key' }));
    await expectUnknownKey(keys({ alg: 'RS256', kid: headerOf(0).kid }));
  });
});

describe('secretKey', () => {
  it('gives the configured secret whatever the header', async () => {
    const secret = new TextEncoder().encode('s'.repeat(32));
    const keys = secretKey(secret);
    expect(await keys({ alg: 'HS256' })).toBe(secret);
    expect(await keys({ alg: 'HS512', kid: 'anything' })).toBe(secret);
  });
});

describe('remoteKeys', () => {
  it('discovers the JWK Set and fetches it once for every lookup', async () => {
    const before = { ...issuer.counters };
    const keys = remote();
    const token = await issuer.mintAccessToken();
    await expect(jwtVerify(token, keys)).resolves.toMatchObject({ payload: { iss: issuer.issuer } });
    await Promise.all([keys(headerOf(0)), keys(headerOf(1)), keys(headerOf(0))]);
    expect(issuer.counters.discovery - before.discovery).toBe(1);
    expect(issuer.counters.jwks - before.jwks).toBe(1);
  });

  it('uses a configured JWK Set URL without discovery', async () => {
    const before = { ...issuer.counters };
    const keys = remote(issuer.jwksUri);
    await keys(headerOf(0));
    expect(issuer.counters.discovery).toBe(before.discovery);
    expect(issuer.counters.jwks - before.jwks).toBe(1);
  });

  it('refuses an unknown kid as token_signature_invalid without refetching within the cooldown', async () => {
    const keys = remote(issuer.jwksUri);
    await keys(headerOf(0));
    const before = issuer.counters.jwks;
    await expectUnknownKey(keys({ alg: 'ES256', kid: 'unknown-1' }));
    await expectUnknownKey(keys({ alg: 'ES256', kid: 'unknown-2' }));
    expect(issuer.counters.jwks).toBe(before);
  });

  it('answers 503 while no JWK Set has ever been fetched, and recovers once it can be', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const keys = remote(issuer.jwksUri);
    issuer.outage('error');
    const error = await failure(keys(headerOf(0)));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, error: undefined, code: 'authorization_server_unavailable' });
    issuer.outage('none');
    vi.setSystemTime(Date.now() + FAILURE_HOLD_DOWN_MS);
    await expect(keys(headerOf(0))).resolves.toMatchObject({ type: 'public' });
  });

  it('keeps verifying with the last keys while the JWK Set cannot be refreshed, for an hour', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const keys = remote(issuer.jwksUri);
    await keys(headerOf(0));
    issuer.outage('down');
    vi.setSystemTime(Date.now() + (DEFAULT_JWKS_MAX_AGE_SECONDS + 1) * 1000);
    const before = issuer.counters.jwks;
    await expect(keys(headerOf(0))).resolves.toMatchObject({ type: 'public' });
    expect(issuer.counters.jwks).toBe(before + 1);
    vi.setSystemTime(Date.now() + JWKS_STALE_IF_ERROR_SECONDS * 1000);
    expect((await failure(keys(headerOf(0)))).status).toBe(503);
  });
});
