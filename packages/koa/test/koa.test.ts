import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createVerifier } from '@certbound/core';
import { certbound, errorHandler, requireScopes } from '@certbound/koa';
import {
  createDpopProof,
  createTestIssuer,
  createTestPki,
  dpopThumbprint,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { generateKeyPair } from 'jose';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { challenge } from '../../../test/support/challenge.js';
import { http2Request } from '../../../test/support/http2-request.js';
import { type RunningApp, startHttpsApp } from '../../../test/support/https-app.js';

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
const running: RunningApp[] = [];

const REALM = 'koa';
const MISMATCH = challenge(
  { realm: REALM },
  { error: 'invalid_token', description: 'The access token is bound to another certificate' },
);

function options() {
  return { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: REALM };
}

/** A Koa app answering `{ subject, thumbprint }`, optionally with certbound's errorHandler(). */
function koaApp(withErrorHandler: boolean): Koa {
  const app = new Koa();
  app.silent = true; // the /boom case is a deliberate 500
  if (withErrorHandler) app.use(errorHandler());
  app.use(certbound(options()));
  app.use((ctx) => {
    if (ctx.path === '/boom') throw new Error('not a certbound error');
    ctx.body = { subject: ctx.state.auth?.subject, thumbprint: ctx.state.auth?.thumbprint };
  });
  return app;
}

async function start(app: Koa): Promise<string> {
  const server = await startHttpsApp(app.callback(), pki);
  running.push(server);
  return server.url;
}

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
  clientB = await pki.issueClient({ subject: 'CN=client-a' });
});

afterAll(async () => {
  await Promise.all([...running.map((app) => app.close()), issuer?.close()]);
});

describe('@certbound/koa', () => {
  it("gives Koa's default error handler the status, WWW-Authenticate and the short description", async () => {
    const url = await start(koaApp(false));
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const response = await httpsRequest(`${url}/`, {
      ca: pki.ca.cert,
      certificate: clientB,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(MISMATCH);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toBe('The access token is bound to another certificate');
  });

  it('answers JSON through errorHandler() and lets other errors through', async () => {
    const url = await start(koaApp(true));
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const headers = { authorization: `Bearer ${token}` };
    const rejected = await httpsRequest(`${url}/`, { ca: pki.ca.cert, certificate: clientB, headers });
    expect(rejected.status).toBe(401);
    expect(rejected.headers['www-authenticate']).toBe(MISMATCH);
    expect(rejected.json).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is bound to another certificate',
      code: 'cnf_mismatch',
    });
    const boom = await httpsRequest(`${url}/boom`, { ca: pki.ca.cert, certificate: clientA, headers });
    expect(boom.status).toBe(500);
    expect(boom.headers['www-authenticate']).toBeUndefined();
  });

  it('verifies requests over HTTP/2 (http2.createSecureServer)', async () => {
    const server = createSecureServer(
      { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
      koaApp(true).callback(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running.push({ url: '', close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const headers = { authorization: `Bearer ${token}` };

    const accepted = await http2Request(url, { ca: pki.ca.cert, certificate: clientA, headers });
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body)).toEqual({ subject: 'client-a', thumbprint: clientA.thumbprint });
    expect(accepted.headers['cache-control']).toBe('no-store');

    const rejected = await http2Request(url, { ca: pki.ca.cert, certificate: clientB, headers });
    expect(rejected.status).toBe(401);
    expect(rejected.headers['www-authenticate']).toBe(MISMATCH);
  });

  it("verifies DPoP proofs over HTTP/2 against the request's :authority", async () => {
    const app = new Koa();
    app.use(errorHandler());
    app.use(certbound(options()));
    app.use((ctx) => {
      ctx.body = { scheme: ctx.state.auth?.scheme, jkt: ctx.state.auth?.jkt, bound: ctx.state.auth?.bound };
    });
    const server = createSecureServer(
      { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
      app.callback(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running.push({ url: '', close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    const url = `https://127.0.0.1:${port}/accounts`;
    const key = await generateKeyPair('ES256', { extractable: true });
    const token = await issuer.mintAccessToken({ dpopKey: key });
    const send = async (proofUrl: string) =>
      http2Request(url, {
        ca: pki.ca.cert,
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await createDpopProof({ key, method: 'GET', url: proofUrl, accessToken: token }),
        },
      });

    const accepted = await send(url);
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body)).toEqual({
      scheme: 'DPoP',
      jkt: await dpopThumbprint(key),
      bound: true,
    });
    expect(accepted.headers['cache-control']).toBe('no-store');

    // The same path on another authority: not the URI this request was sent to.
    const elsewhere = await send(`https://localhost:${port}/accounts`);
    expect(elsewhere.status).toBe(401);
    expect(JSON.parse(elsewhere.body)).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The DPoP proof is invalid',
      code: 'dpop_proof_invalid',
    });
    expect(elsewhere.headers['www-authenticate']).toBe(
      challenge(
        { realm: REALM },
        { scheme: 'DPoP', error: 'invalid_dpop_proof', description: 'The DPoP proof is invalid' },
      ),
    );
  });

  it('accepts a shared verifier', async () => {
    const verifier = createVerifier(options());
    const app = new Koa();
    app.use(certbound(verifier));
    app.use((ctx) => {
      ctx.body = { bound: ctx.state.auth?.bound };
    });
    const url = await start(app);
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const response = await httpsRequest(`${url}/`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.json).toEqual({ bound: true });
    await verifier.close();
  });

  it('accepts a verifier passed as { verifier } and leaves it open when the server closes', async () => {
    const verifier = createVerifier(options());
    const close = vi.spyOn(verifier, 'close');
    const app = new Koa();
    app.use(errorHandler());
    app.use(certbound({ verifier }));
    app.use((ctx) => {
      ctx.body = { subject: ctx.state.auth?.subject, bound: ctx.state.auth?.bound };
    });
    const server = await startHttpsApp(app.callback(), pki);
    try {
      const token = await issuer.mintAccessToken({ certificate: clientA });
      const headers = { authorization: `Bearer ${token}` };
      const accepted = await httpsRequest(`${server.url}/`, {
        ca: pki.ca.cert,
        certificate: clientA,
        headers,
      });
      expect(accepted.status).toBe(200);
      expect(accepted.headers['cache-control']).toBe('no-store');
      expect(accepted.json).toEqual({ subject: 'client-a', bound: true });
      const rejected = await httpsRequest(`${server.url}/`, {
        ca: pki.ca.cert,
        certificate: clientB,
        headers,
      });
      expect(rejected.status).toBe(401);
      expect(rejected.headers['www-authenticate']).toBe(MISMATCH);
      expect(rejected.json).toEqual({
        error: 'invalid_token',
        error_description: 'The access token is bound to another certificate',
        code: 'cnf_mismatch',
      });
    } finally {
      await server.close();
    }
    // Koa has no shutdown hook: the middleware never closes a verifier, least of all one passed in.
    expect(close).not.toHaveBeenCalled();
    await verifier.close();
  });

  it('throws at start-up for invalid options and invalid scope names', () => {
    expect(() => certbound({ issuer: 'not a url', audience: 'x' })).toThrow(TypeError);
    expect(() => certbound({ ...options(), bindng: 'required' } as never)).toThrow(/bindng/);
    expect(() => requireScopes('has space')).toThrow(TypeError);
  });
});
