/**
 * What a forged token can cost, and how long a removed key keeps verifying: Express over real
 * mTLS. CPU cost is counted as signature verifications (WebCrypto `verify` calls), never timed.
 */
import { webcrypto } from 'node:crypto';
import { createVerifier, type Verifier } from '@certbound/core';
import { certbound, errorHandler } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { challenge } from '../support/challenge.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

let pki: TestPki;
let issuer: TestIssuer;
let client: TestCertificate;
const apps: RunningApp[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
  client = await pki.issueClient({ subject: 'CN=client-a' });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

afterAll(async () => {
  await Promise.all([...apps.map((app) => app.close()), issuer?.close()]);
});

async function serve(verifier: Verifier): Promise<RunningApp> {
  const server = express();
  server.use(certbound(verifier));
  server.get('/me', (req, res) => {
    res.json({ clientId: req.auth?.clientId });
  });
  server.use(errorHandler());
  const app = await startHttpsApp(server, pki);
  apps.push(app);
  return app;
}

const call = (app: RunningApp, token: string) =>
  httpsRequest(`${app.url}/me`, {
    ca: issuer.ca,
    certificate: client,
    headers: { authorization: `Bearer ${token}` },
  });

const SIGNATURE_INVALID = {
  error: 'invalid_token',
  error_description: 'The access token signature is invalid',
  code: 'token_signature_invalid',
};

/** Counts signature verifications from now on. */
function countVerifications() {
  return vi.spyOn(webcrypto.subtle, 'verify');
}

describe('a forged token without kid', () => {
  it('costs at most four signature checks against a set of 64 keys, and none when replayed', async () => {
    const keys: JWK[] = [];
    for (let i = 0; i < 64; i++) {
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      keys.push({ ...(await exportJWK(publicKey)), alg: 'ES256', kid: `key-${i}` });
    }
    const app = await serve(
      createVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: { keys } }),
    );
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT({
      sub: 'mallory',
      client_id: 'mallory',
      jti: 'forged',
      cnf: { 'x5t#S256': client.thumbprint },
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(attacker.privateKey);

    const verify = countVerifications();
    const first = await call(app, forged);
    expect(first.status).toBe(401);
    expect(first.json).toEqual(SIGNATURE_INVALID);
    expect(verify.mock.calls.length).toBeGreaterThan(0);
    expect(verify.mock.calls.length).toBeLessThanOrEqual(4);

    verify.mockClear();
    const replayed = await call(app, forged);
    expect(replayed.status).toBe(401);
    expect(replayed.json).toEqual(SIGNATURE_INVALID);
    expect(replayed.headers['www-authenticate']).toBe(
      challenge(
        { realm: 'api' },
        { error: 'invalid_token', description: 'The access token signature is invalid' },
      ),
    );
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('a key removed from the JWK Set', () => {
  it('stops verifying at once after refreshKeys(), tokens already memoized included', async () => {
    const local = await createTestIssuer({ pki, algorithms: ['ES256'] });
    try {
      const verifier = createVerifier({
        issuer: local.issuer,
        audience: local.audience,
        tls: { ca: local.ca },
      });
      const app = await serve(verifier);
      const seen = await local.mintAccessToken({ certificate: client });
      expect((await call(app, seen)).status).toBe(200);

      local.removeKey(local.jwks.keys[0]!.kid!);
      await verifier.refreshKeys();

      const again = await call(app, seen);
      const fresh = await call(app, await local.mintAccessToken({ certificate: client }));
      expect(again.status).toBe(401);
      expect(again.json).toEqual(SIGNATURE_INVALID);
      expect(fresh.status).toBe(401);
      expect(fresh.json).toEqual(SIGNATURE_INVALID);
    } finally {
      await local.close();
    }
  });

  it('stops verifying new tokens once the cached set is older than jwksMaxAgeSeconds', async () => {
    const local = await createTestIssuer({ pki, algorithms: ['ES256'] });
    try {
      const verifier = createVerifier({
        issuer: local.issuer,
        audience: local.audience,
        tls: { ca: local.ca },
        jwksMaxAgeSeconds: 60,
      });
      const app = await serve(verifier);
      expect((await call(app, await local.mintAccessToken({ certificate: client }))).status).toBe(200);
      const fetches = local.counters.jwks;

      local.removeKey(local.jwks.keys[0]!.kid!);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
      const afterMaxAge = await call(app, await local.mintAccessToken({ certificate: client }));
      expect(afterMaxAge.status).toBe(401);
      expect(afterMaxAge.json).toEqual(SIGNATURE_INVALID);
      expect(local.counters.jwks).toBe(fetches + 1);
    } finally {
      await local.close();
    }
  });
});
