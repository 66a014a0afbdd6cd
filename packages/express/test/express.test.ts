import { createVerifier } from '@certbound/core';
import { certbound, errorHandler, requireScopes } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
} from '@certbound/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { challengesOf } from '../../../test/support/challenge.js';
import { type RunningApp, startHttpsApp } from '../../../test/support/https-app.js';

let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let app: RunningApp;
let bareApp: RunningApp;
const challenge = challengesOf({ realm: 'accounts' });
const CNF_MISMATCH = {
  error: 'invalid_token',
  description: 'The access token is bound to another certificate',
} as const;

function options() {
  return { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: 'accounts' };
}

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });
  clientB = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });

  const api = express();
  api.use(certbound(options()));
  api.get('/me', (req, res) => {
    res.json({
      subject: req.auth?.subject,
      clientId: req.auth?.clientId,
      scopes: req.auth?.scopes,
      bound: req.auth?.bound,
      thumbprint: req.auth?.thumbprint,
      format: req.auth?.format,
      expiresAt: req.auth?.expiresAt,
    });
  });
  api.get('/admin', requireScopes('admin', 'write'), (_req, res) => {
    res.json({ ok: true });
  });
  api.use(errorHandler());
  app = await startHttpsApp(api, pki);

  const bare = express();
  bare.use(certbound(createVerifier(options())));
  bare.get('/me', (_req, res) => {
    res.send('ok');
  });
  bareApp = await startHttpsApp(bare, pki);
});

afterAll(async () => {
  await Promise.all([app?.close(), bareApp?.close(), issuer?.close()]);
});

const call = (base: RunningApp, path: string, token?: string, certificate?: TestCertificate) =>
  httpsRequest(`${base.url}${path}`, {
    ca: issuer.ca,
    certificate,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

describe('@certbound/express', () => {
  it('puts the verified AuthInfo on req.auth for a bound token presented with its certificate', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'read write' });
    const res = await call(app, '/me', token, clientA);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toMatchObject({
      subject: 'client-a',
      clientId: 'client-a',
      scopes: ['read', 'write'],
      bound: true,
      thumbprint: clientA.thumbprint,
      format: 'jwt',
    });
  });

  it('reads the client certificate over TLS 1.2 as well', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const headers = { authorization: `Bearer ${token}` };
    const ok = await httpsRequest(`${app.url}/me`, {
      ca: issuer.ca,
      certificate: clientA,
      headers,
      maxVersion: 'TLSv1.2',
    });
    expect(ok.status).toBe(200);
    const stolen = await httpsRequest(`${app.url}/me`, {
      ca: issuer.ca,
      certificate: clientB,
      headers,
      maxVersion: 'TLSv1.2',
    });
    expect(stolen.status).toBe(401);
    expect(stolen.json).toMatchObject({ code: 'cnf_mismatch' });
  });

  it('rejects the same token presented with a look-alike certificate', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await call(app, '/me', token, clientB);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is bound to another certificate',
      code: 'cnf_mismatch',
    });
    expect(res.headers['www-authenticate']).toBe(challenge(CNF_MISMATCH));
  });

  it('rejects a bound token sent without a client certificate', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await call(app, '/me', token);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_token', code: 'certificate_missing' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="accounts", error="invalid_token"/);
  });

  it('answers a request without credentials with a bare challenge', async () => {
    const res = await call(app, '/me', undefined, clientA);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ code: 'credentials_missing' });
    expect(res.headers['www-authenticate']).toBe(challenge());
  });

  it('answers 403 insufficient_scope listing the required scopes', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'read write' });
    const res = await call(app, '/admin', token, clientA);
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: 'insufficient_scope', code: 'insufficient_scope' });
    expect(res.headers['www-authenticate']).toBe(
      challenge({
        error: 'insufficient_scope',
        description: 'The access token lacks the required scope',
        scope: 'admin write',
      }),
    );
  });

  it('passes requireScopes when every scope is granted', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'admin write' });
    const res = await call(app, '/admin', token, clientA);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true });
  });

  it("gives Express's default error handler the status and WWW-Authenticate", async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await call(bareApp, '/me', token, clientB);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challenge(CNF_MISMATCH));
    expect(res.body).not.toContain(token);
  });

  it('stays up when another middleware answered before verification finished', async () => {
    const slowIssuer = await createTestIssuer({ pki: issuer.pki });
    const api = express();
    api.use((_req, res, next) => {
      res.status(503).json({ timeout: true });
      next();
    });
    api.use(
      certbound({ issuer: slowIssuer.issuer, audience: slowIssuer.audience, tls: { ca: slowIssuer.ca } }),
    );
    api.get('/me', (_req, res) => {
      res.json({ reached: true });
    });
    const running = await startHttpsApp(api, issuer.pki);
    try {
      const token = await slowIssuer.mintAccessToken({ certificate: clientA });
      const first = await httpsRequest(`${running.url}/me`, {
        ca: issuer.ca,
        certificate: clientA,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(first.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await httpsRequest(`${running.url}/me`, {
        ca: issuer.ca,
        certificate: clientA,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(second.json).toEqual({ timeout: true });
    } finally {
      await running.close();
      await slowIssuer.close();
    }
  });

  it('accepts a verifier passed as { verifier } and leaves it open when the server closes', async () => {
    const verifier = createVerifier(options());
    const close = vi.spyOn(verifier, 'close');
    const api = express();
    api.use(certbound({ verifier }));
    api.get('/me', (req, res) => {
      res.json({ subject: req.auth?.subject, bound: req.auth?.bound, thumbprint: req.auth?.thumbprint });
    });
    const running = await startHttpsApp(api, issuer.pki);
    try {
      const token = await issuer.mintAccessToken({ certificate: clientA });
      const res = await call(running, '/me', token, clientA);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json).toEqual({ subject: 'client-a', bound: true, thumbprint: clientA.thumbprint });
    } finally {
      await running.close();
    }
    // Express has no shutdown hook: the middleware never closes a verifier, least of all one passed in.
    expect(close).not.toHaveBeenCalled();
    await verifier.close();
  });

  it('throws at start-up for invalid options and invalid scope names', () => {
    expect(() => certbound({ issuer: 'not a url', audience: 'x' })).toThrow(
      'Invalid certbound option: "issuer" must be an absolute https URL',
    );
    expect(() => requireScopes()).toThrow(TypeError);
    expect(() => requireScopes('bad scope')).toThrow(/not a valid scope/);
  });
});
