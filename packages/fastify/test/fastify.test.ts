import type { AddressInfo } from 'node:net';
import { createVerifier } from '@certbound/core';
import { certbound, errorHandler, requireScopes } from '@certbound/fastify';
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
import Fastify, { type FastifyInstance } from 'fastify';
import { generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { challengesOf } from '../../../test/support/challenge.js';
import { http2Request } from '../../../test/support/http2-request.js';

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let apps: FastifyInstance[] = [];

const challenge = challengesOf({ realm: 'fastify' });
const MISMATCH = challenge({
  error: 'invalid_token',
  description: 'The access token is bound to another certificate',
});

function options() {
  return { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: 'fastify' };
}

const tls = () => ({
  cert: pki.server.cert,
  key: pki.server.key,
  requestCert: true,
  rejectUnauthorized: false,
});

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  app.get('/me', async (request) => ({
    subject: request.auth?.subject,
    thumbprint: request.auth?.thumbprint,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const bearer = async (certificate = clientA) => ({
  authorization: `Bearer ${await issuer.mintAccessToken({ certificate })}`,
});

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
  clientB = await pki.issueClient({ subject: 'CN=client-a' });
});

afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});

afterAll(async () => {
  await issuer?.close();
});

describe('@certbound/fastify', () => {
  it("gives Fastify's default error handler the status, WWW-Authenticate and the code", async () => {
    const app = Fastify({ https: tls() });
    await app.register(certbound, options());
    const url = await listen(app);
    const response = await httpsRequest(`${url}/me`, {
      ca: pki.ca.cert,
      certificate: clientB,
      headers: await bearer(),
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(MISMATCH);
    expect(response.json).toEqual({
      statusCode: 401,
      code: 'cnf_mismatch',
      error: 'Unauthorized',
      message: 'The access token is bound to another certificate',
    });
  });

  it('sends non-certbound errors on to Fastify from errorHandler()', async () => {
    const app = Fastify({ https: tls() });
    app.setErrorHandler(errorHandler());
    await app.register(certbound, options());
    app.get('/boom', async () => {
      throw Object.assign(new Error('teapot'), { statusCode: 418 });
    });
    const url = await listen(app);
    const response = await httpsRequest(`${url}/boom`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(response.status).toBe(418);
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect((response.json as { message: string }).message).toBe('teapot');
  });

  it('verifies requests over HTTP/2 with TLS', async () => {
    const app = Fastify({ http2: true, https: tls() });
    app.setErrorHandler(errorHandler());
    await app.register(certbound, options());
    const url = await listen(app as unknown as FastifyInstance);

    const accepted = await http2Request(`${url}/me`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body)).toEqual({ subject: 'client-a', thumbprint: clientA.thumbprint });
    expect(accepted.headers['cache-control']).toBe('no-store');

    const rejected = await http2Request(`${url}/me`, {
      ca: pki.ca.cert,
      certificate: clientB,
      headers: await bearer(),
    });
    expect(rejected.status).toBe(401);
    expect(rejected.headers['www-authenticate']).toBe(MISMATCH);
    expect(JSON.parse(rejected.body)).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is bound to another certificate',
      code: 'cnf_mismatch',
    });
  });

  it("verifies DPoP proofs over HTTP/2 against the request's :authority", async () => {
    const app = Fastify({ http2: true, https: tls() });
    app.setErrorHandler(errorHandler());
    await app.register(certbound, options());
    app.get('/accounts', async (request) => ({
      scheme: request.auth?.scheme,
      jkt: request.auth?.jkt,
      bound: request.auth?.bound,
    }));
    const origin = await listen(app as unknown as FastifyInstance);
    const url = `${origin}/accounts`;
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
    const elsewhere = await send(url.replace('127.0.0.1', 'localhost'));
    expect(elsewhere.status).toBe(401);
    expect(JSON.parse(elsewhere.body)).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The DPoP proof is invalid',
      code: 'dpop_proof_invalid',
    });
    expect(elsewhere.headers['www-authenticate']).toBe(
      challenge({ scheme: 'DPoP', error: 'invalid_dpop_proof', description: 'The DPoP proof is invalid' }),
    );
  });

  it('opts a route out with config: { certbound: false } and runs requireScopes as a preHandler', async () => {
    const app = Fastify({ https: tls() });
    app.setErrorHandler(errorHandler());
    await app.register(certbound, options());
    app.get('/health', { config: { certbound: false } }, async (request) => ({ auth: request.auth ?? null }));
    app.get('/admin', { preHandler: requireScopes('admin') }, async () => ({ ok: true }));
    const url = await listen(app);

    const health = await httpsRequest(`${url}/health`, { ca: pki.ca.cert });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ auth: null });
    expect(health.headers['cache-control']).toBeUndefined();

    const admin = await httpsRequest(`${url}/admin`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(admin.status).toBe(403);
    expect(admin.headers['www-authenticate']).toBe(
      challenge({
        error: 'insufficient_scope',
        description: 'The access token lacks the required scope',
        scope: 'admin',
      }),
    );
  });

  it('shares a verifier passed as { verifier } and leaves it open when the app closes', async () => {
    const verifier = createVerifier(options());
    const first = Fastify({ https: tls() });
    await first.register(certbound, { verifier });
    await listen(first);
    await first.close();
    apps = [];

    const second = Fastify({ https: tls() });
    await second.register(certbound, { verifier });
    const url = await listen(second);
    const response = await httpsRequest(`${url}/me`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(response.status).toBe(200);
    await verifier.close();
  });

  it("ignores Fastify's own register options", async () => {
    const app = Fastify({ https: tls() });
    await app.register(certbound, { ...options(), prefix: '/api', logLevel: 'warn' } as never);
    const url = await listen(app);
    const response = await httpsRequest(`${url}/me`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(response.status).toBe(200);
  });

  it('fails registration for invalid options, naming the option', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(certbound, { ...options(), bindng: 'required' } as never)).rejects.toThrow(
      /bindng/,
    );
    expect(() => requireScopes('has space')).toThrow(TypeError);
  });
});
