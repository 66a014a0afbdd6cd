/**
 * The diagnostics channels, observed the way an operator would: subscribers on every channel
 * while real requests (JWT and opaque, accepted and refused, over real mTLS) go through a verifier,
 * then every event is checked for shape and for secrets.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createVerifier, DIAGNOSTICS_CHANNELS, isCertboundError, type Verifier } from '@certbound/core';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  serveHttps,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
  type TestServer,
} from '@certbound/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let verifier: Verifier;
let api: TestServer;
const events: Array<{ channel: string; message: Record<string, unknown> }> = [];
const handlers = Object.values(DIAGNOSTICS_CHANNELS).map((name) => {
  const handler = (message: unknown) =>
    events.push({ channel: name, message: message as Record<string, unknown> });
  return [name, handler] as const;
});

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
  clientB = await pki.lookAlike(clientA);
  verifier = createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    tls: { ca: issuer.ca },
    introspection: issuer.introspectionClient,
  });
  api = await serveHttps(
    (req: IncomingMessage, res: ServerResponse) => {
      verifier.authenticate(req).then(
        (auth) => res.writeHead(200).end(auth.format),
        (error: unknown) => res.writeHead(isCertboundError(error) ? error.status : 500).end(),
      );
    },
    { pki },
  );
  for (const [name, handler] of handlers) subscribe(name, handler);
});

afterAll(async () => {
  for (const [name, handler] of handlers) unsubscribe(name, handler);
  await Promise.all([api?.close(), verifier?.close(), issuer?.close()]);
});

beforeEach(() => {
  events.length = 0;
});

const call = (token: string, certificate?: TestCertificate) =>
  httpsRequest(`${api.url}/`, {
    ca: pki.ca.cert,
    certificate,
    headers: { authorization: `Bearer ${token}` },
  });

const of = (channel: string) => events.filter((e) => e.channel === channel).map((e) => e.message);

describe('diagnostics channels', () => {
  it('reports a JWT accepted, then served from the token cache, with the JWKS fetch', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'read' });
    expect((await call(token, clientA)).status).toBe(200);
    expect((await call(token, clientA)).status).toBe(200);

    const decisions = of(DIAGNOSTICS_CHANNELS.decision);
    expect(decisions).toHaveLength(2);
    for (const decision of decisions) {
      expect(decision).toEqual({
        outcome: 'accepted',
        status: 200,
        code: undefined,
        format: 'jwt',
        certificateSource: 'tls',
        certificatePresented: true,
        bound: true,
        clientId: 'client-a',
        durationMs: expect.any(Number),
      });
    }
    expect(of(DIAGNOSTICS_CHANNELS.cache)).toEqual([
      { cache: 'token', event: 'miss' },
      { cache: 'token', event: 'hit' },
    ]);
    expect(of(DIAGNOSTICS_CHANNELS.jwks)).toEqual([
      { outcome: 'ok', status: 200, url: issuer.jwksUri, durationMs: expect.any(Number) },
    ]);
  });

  it('reports a refusal with its code, status and certificate', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    expect((await call(token, clientB)).status).toBe(401);
    expect((await call(token)).status).toBe(401);
    expect(of(DIAGNOSTICS_CHANNELS.decision)).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        status: 401,
        code: 'cnf_mismatch',
        certificatePresented: true,
      }),
      expect.objectContaining({
        outcome: 'rejected',
        status: 401,
        code: 'certificate_missing',
        certificatePresented: false,
      }),
    ]);
  });

  it('reports each verify() decision once, whether it waited for a validation or not', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    const outcomes = [];
    // The first call of each token validates it; the second is decided from the memo at once.
    for (const [authorization, certificate] of [
      [`Bearer ${token}`, clientB.der],
      [`Bearer ${token}`, clientB.der],
      [`Bearer ${token}`, clientA.der],
      [`Bearer ${forged}`, clientA.der],
      [`Bearer ${forged}`, clientA.der],
    ] as const) {
      outcomes.push(
        await verifier.verify({ authorization, certificate }).then(
          () => 'ok',
          (error: unknown) => (isCertboundError(error) ? error.code : 'other'),
        ),
      );
    }
    expect(outcomes).toEqual([
      'cnf_mismatch',
      'cnf_mismatch',
      'ok',
      'token_signature_invalid',
      'token_signature_invalid',
    ]);
    expect(
      of(DIAGNOSTICS_CHANNELS.decision).map((d) => [d.outcome, d.code ?? 'ok', d.certificateSource]),
    ).toEqual(outcomes.map((code) => [code === 'ok' ? 'accepted' : 'rejected', code, 'input']));
  });

  it('reports introspection calls, cache hits, coalesced lookups and cached refusals', async () => {
    const token = issuer.mintOpaqueToken({ certificate: clientA, scope: 'read' });
    const responses = await Promise.all([call(token, clientA), call(token, clientA), call(token, clientA)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await call(token, clientA)).status).toBe(200);
    const revoked = issuer.mintOpaqueToken({ certificate: clientA });
    issuer.revoke(revoked);
    expect((await call(revoked, clientA)).status).toBe(401);
    expect((await call(revoked, clientA)).status).toBe(401);

    expect(of(DIAGNOSTICS_CHANNELS.introspection)).toEqual([
      { outcome: 'active', durationMs: expect.any(Number) },
      { outcome: 'inactive', durationMs: expect.any(Number) },
    ]);
    const lookups = of(DIAGNOSTICS_CHANNELS.cache).map((e) => e.event);
    expect(lookups.filter((e) => e === 'miss')).toHaveLength(2);
    // Concurrent requests join the first lookup or, if it finished, hit the cache.
    expect(lookups.filter((e) => e === 'coalesced' || e === 'hit').length).toBeGreaterThanOrEqual(3);
    expect(lookups.at(-1)).toBe('negative');
    expect(of(DIAGNOSTICS_CHANNELS.decision).at(-1)).toMatchObject({
      code: 'token_inactive',
      format: undefined,
    });
  });

  it('reports an authorization server in trouble as a JWKS error and a 503', async () => {
    const troubled = await createTestIssuer({ pki });
    const fresh = createVerifier({
      issuer: troubled.issuer,
      audience: troubled.audience,
      tls: { ca: troubled.ca },
      jwksUri: troubled.jwksUri,
    });
    try {
      const token = await troubled.mintAccessToken({ certificate: clientA });
      troubled.outage('error');
      await expect(
        fresh.verify({ authorization: `Bearer ${token}`, certificate: clientA.cert }),
      ).rejects.toMatchObject({ status: 503 });
      expect(of(DIAGNOSTICS_CHANNELS.jwks)).toEqual([
        { outcome: 'error', status: 500, url: troubled.jwksUri, durationMs: expect.any(Number) },
      ]);
      expect(of(DIAGNOSTICS_CHANNELS.decision)).toEqual([
        expect.objectContaining({
          outcome: 'rejected',
          status: 503,
          code: 'authorization_server_unavailable',
          certificateSource: 'input',
          certificatePresented: true,
        }),
      ]);
    } finally {
      await Promise.all([fresh.close(), troubled.close()]);
    }
  });

  it('never carries a token, a certificate or an Authorization value', async () => {
    const jwt = await issuer.mintAccessToken({ certificate: clientA, scope: 'read' });
    const opaque = issuer.mintOpaqueToken({ certificate: clientA });
    await call(jwt, clientA);
    await call(jwt, clientB);
    await call(opaque, clientA);
    await call(opaque, clientB);
    expect(events.length).toBeGreaterThan(4);
    const serialized = JSON.stringify(events);
    for (const secret of [
      jwt,
      jwt.split('.')[2]!,
      opaque,
      'Bearer',
      clientA.der.toString('base64').slice(20, 80),
      clientB.der.toString('base64').slice(20, 80),
      'BEGIN CERTIFICATE',
    ]) {
      expect(serialized).not.toContain(secret);
    }
  });
});
