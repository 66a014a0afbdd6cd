/**
 * `hook: false`: the plugin adds no `onRequest` hook and apps put `app.verifyCertbound` where they
 * choose, as a plain route hook or as an `@fastify/auth` strategy next to other schemes.
 */
import type { AddressInfo } from 'node:net';
import { createVerifier } from '@certbound/core';
import { certbound, errorHandler, requireScopes } from '@certbound/fastify';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import fastifyAuth from '@fastify/auth';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { challengesOf } from '../../../test/support/challenge.js';

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let apps: FastifyInstance[] = [];

const MISMATCH_DESCRIPTION = 'The access token is bound to another certificate';
const challenge = challengesOf({ realm: 'fastify' });
const MISMATCH = challenge({ error: 'invalid_token', description: MISMATCH_DESCRIPTION });
const MULTIPLE_METHODS = 'Multiple methods used to include access token';

function options() {
  return { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: 'fastify' };
}

/** An HTTPS app asking for (not verifying) client certificates (RFC 8705 §6.2). */
function httpsApp(): FastifyInstance {
  const app = Fastify({
    https: { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
  });
  apps.push(app);
  app.setErrorHandler(errorHandler());
  return app;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const describeAuth = async (request: FastifyRequest) => ({
  subject: request.auth?.subject ?? null,
  bound: request.auth?.bound ?? null,
});

/** Another scheme for `@fastify/auth`: a static API key (so "either one" can be shown). */
async function apiKey(request: FastifyRequest): Promise<void> {
  if (request.headers['x-api-key'] !== 'key-1') throw new Error('no API key');
}

const bearer = async (certificate = clientA, scope?: string) => ({
  authorization: `Bearer ${await issuer.mintAccessToken({ certificate, scope })}`,
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

describe('@certbound/fastify with hook: false', () => {
  it('protects only the routes that put app.verifyCertbound in a hook', async () => {
    const app = httpsApp();
    await app.register(certbound, { ...options(), hook: false });
    app.get('/open', describeAuth);
    app.get('/me', { onRequest: app.verifyCertbound }, describeAuth);
    app.get('/admin', { preHandler: [app.verifyCertbound, requireScopes('admin')] }, describeAuth);
    const url = await listen(app);
    const ca = pki.ca.cert;

    const open = await httpsRequest(`${url}/open`, { ca });
    expect(open.status).toBe(200);
    expect(open.json).toEqual({ subject: null, bound: null });
    expect(open.headers['cache-control']).toBeUndefined();

    const me = await httpsRequest(`${url}/me`, { ca, certificate: clientA, headers: await bearer() });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ subject: 'client-a', bound: true });
    expect(me.headers['cache-control']).toBe('no-store');

    const stolen = await httpsRequest(`${url}/me`, { ca, certificate: clientB, headers: await bearer() });
    expect(stolen.status).toBe(401);
    expect(stolen.headers['www-authenticate']).toBe(MISMATCH);
    expect(stolen.json).toEqual({
      error: 'invalid_token',
      error_description: MISMATCH_DESCRIPTION,
      code: 'cnf_mismatch',
    });

    const admin = await httpsRequest(`${url}/admin`, { ca, certificate: clientA, headers: await bearer() });
    expect(admin.status).toBe(403);
    expect(admin.headers['www-authenticate']).toBe(
      challenge({
        error: 'insufficient_scope',
        description: 'The access token lacks the required scope',
        scope: 'admin',
      }),
    );
    expect(admin.json).toEqual({
      error: 'insufficient_scope',
      error_description: 'The access token lacks the required scope',
      code: 'insufficient_scope',
    });
  });

  it('composes with @fastify/auth: a bound token or another scheme, and certbound’s challenge when both fail', async () => {
    const app = httpsApp();
    await app.register(fastifyAuth);
    await app.register(certbound, { ...options(), hook: false });
    app.get('/either', { preHandler: app.auth([apiKey, app.verifyCertbound]) }, describeAuth);
    app.get(
      '/both',
      { preHandler: app.auth([app.verifyCertbound, requireScopes('admin')], { relation: 'and' }) },
      describeAuth,
    );
    const url = await listen(app);
    const ca = pki.ca.cert;

    const byToken = await httpsRequest(`${url}/either`, {
      ca,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(byToken.status).toBe(200);
    expect(byToken.json).toEqual({ subject: 'client-a', bound: true });
    expect(byToken.headers['cache-control']).toBe('no-store');

    const byKey = await httpsRequest(`${url}/either`, { ca, headers: { 'x-api-key': 'key-1' } });
    expect(byKey.status).toBe(200);
    expect(byKey.json).toEqual({ subject: null, bound: null });
    expect(byKey.headers['cache-control']).toBeUndefined();

    const neither = await httpsRequest(`${url}/either`, {
      ca,
      certificate: clientB,
      headers: await bearer(),
    });
    expect(neither.status).toBe(401);
    expect(neither.headers['www-authenticate']).toBe(MISMATCH);
    expect(neither.json).toEqual({
      error: 'invalid_token',
      error_description: MISMATCH_DESCRIPTION,
      code: 'cnf_mismatch',
    });

    const scoped = await httpsRequest(`${url}/both`, {
      ca,
      certificate: clientA,
      headers: await bearer(clientA, 'admin'),
    });
    expect(scoped.status).toBe(200);
    expect(scoped.json).toEqual({ subject: 'client-a', bound: true });
    const unscoped = await httpsRequest(`${url}/both`, { ca, certificate: clientA, headers: await bearer() });
    expect(unscoped.status).toBe(403);
    expect(unscoped.json).toMatchObject({ error: 'insufficient_scope', code: 'insufficient_scope' });
  });

  it.each([
    ['an onRequest hook', 'onRequest'],
    ['an @fastify/auth preHandler', 'auth'],
  ] as const)(
    'refuses a second token in a form body when verifyCertbound runs as %s',
    async (_name, where) => {
      const app = httpsApp();
      await app.register(fastifyAuth);
      await app.register(formbody);
      await app.register(certbound, { ...options(), hook: false });
      const placement =
        where === 'onRequest'
          ? { onRequest: app.verifyCertbound }
          : { preHandler: app.auth([app.verifyCertbound]) };
      app.post('/payments', placement, describeAuth);
      const url = await listen(app);
      const post = async (body: string) =>
        httpsRequest(`${url}/payments`, {
          method: 'POST',
          ca: pki.ca.cert,
          certificate: clientA,
          headers: { ...(await bearer()), 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });

      const accepted = await post('amount=10');
      expect(accepted.status).toBe(200);
      expect(accepted.json).toEqual({ subject: 'client-a', bound: true });

      const twice = await post('access_token=x&amount=10');
      expect(twice.status).toBe(400);
      expect(twice.headers['www-authenticate']).toBe(
        challenge({ error: 'invalid_request', description: MULTIPLE_METHODS }),
      );
      expect(twice.json).toEqual({
        error: 'invalid_request',
        error_description: MULTIPLE_METHODS,
        code: 'invalid_request',
      });
    },
  );

  it('takes hook: false next to { verifier } and leaves that verifier open when the app closes', async () => {
    const verifier = createVerifier(options());
    const close = vi.spyOn(verifier, 'close');
    const app = httpsApp();
    await app.register(certbound, { verifier, hook: false });
    app.get('/me', { onRequest: app.verifyCertbound }, describeAuth);
    const url = await listen(app);
    const me = await httpsRequest(`${url}/me`, {
      ca: pki.ca.cert,
      certificate: clientA,
      headers: await bearer(),
    });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ subject: 'client-a', bound: true });
    await app.close();
    apps = [];
    expect(close).not.toHaveBeenCalled();
    await verifier.close();
  });

  it('fails registration when hook is not a boolean', async () => {
    for (const hook of ['false', 0, null]) {
      const app = Fastify();
      apps.push(app);
      await expect(app.register(certbound, { ...options(), hook } as never)).rejects.toThrow(
        new TypeError('Invalid certbound option: "hook" must be a boolean'),
      );
    }
  });
});
