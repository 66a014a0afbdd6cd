/**
 * Nothing a client sent, and no stack trace, reaches a response body or a log line: Express with
 * its own default error handler (no `errorHandler()` mounted), in development and production.
 */
import { inspect } from 'node:util';
import { certbound } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { craftedSigner } from '../adversarial/jws-craft.js';
import { challenge } from '../support/challenge.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

let pki: TestPki;
let issuer: TestIssuer;
let client: TestCertificate;
const apps: RunningApp[] = [];
const nodeEnv = process.env.NODE_ENV;

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
  client = await pki.issueClient({ subject: 'CN=client-a' });
});

afterEach(() => {
  process.env.NODE_ENV = nodeEnv;
  vi.restoreAllMocks();
});

afterAll(async () => {
  await Promise.all([...apps.map((app) => app.close()), issuer?.close()]);
});

/** An Express app as the quick start builds it, minus `errorHandler()`, in `env`. */
const signer = craftedSigner('crafted');

async function quickStart(env: string): Promise<RunningApp> {
  process.env.NODE_ENV = env;
  const app = express();
  app.use(certbound({ issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: [signer.jwk] } }));
  app.get('/me', (req, res) => {
    res.json({ clientId: req.auth?.clientId });
  });
  const running = await startHttpsApp(app, pki);
  apps.push(running);
  return running;
}

const INJECTED = 'INJECTED-LOG-LINE';

describe.each(['development', 'production'])('Express default error handler, NODE_ENV=%s', (env) => {
  it('answers a refused token with the RFC 6750 status and challenge, and a body with no stack or path', async () => {
    const app = await quickStart(env);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const now = Math.floor(Date.now() / 1000);
    const token = signer.sign(
      { alg: 'ES256', kid: signer.kid, typ: 'at+jwt' },
      {
        iss: issuer.issuer,
        aud: issuer.audience,
        sub: 'a',
        client_id: 'a',
        iat: now,
        exp: now + 300,
        jti: 'j',
        cnf: { 'x5t#S256': client.thumbprint },
      },
    );
    const response = await httpsRequest(`${app.url}/me`, {
      ca: issuer.ca,
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      challenge(
        { realm: 'api' },
        {
          error: 'invalid_token',
          description: 'The access token is certificate-bound but no client certificate was presented',
        },
      ),
    );
    expect(response.body).not.toMatch(/\bat\s|node_modules|\/packages\/|\.ts:\d|\.js:\d/);
    expect(response.body).not.toContain(token);
    // Express logs the error on a later tick (finalhandler defers it).
    await vi.waitFor(() => expect(logged).toHaveBeenCalled());
    // What console.error prints: util.inspect, with the stack, own members and `[cause]`.
    const log = logged.mock.calls
      .flat()
      .map((value) => inspect(value))
      .join('\n');
    expect(log).toContain('certificate_missing');
    expect(log).not.toMatch(/\bat\s|node_modules|\/packages\//);
    expect(log).not.toContain(token);
  });

  it('keeps attacker-chosen header text out of the log line and the error cause', async () => {
    const app = await quickStart(env);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const now = Math.floor(Date.now() / 1000);
    const token = signer.sign(
      { alg: 'ES256', kid: signer.kid, typ: 'at+jwt', crit: [`x\n${INJECTED}`], [`x\n${INJECTED}`]: true },
      {
        iss: issuer.issuer,
        aud: issuer.audience,
        sub: 'mallory',
        client_id: 'mallory',
        iat: now,
        exp: now + 300,
        jti: 'crit',
        cnf: { 'x5t#S256': client.thumbprint },
      },
    );
    const response = await httpsRequest(`${app.url}/me`, {
      ca: issuer.ca,
      certificate: client,
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      challenge({ realm: 'api' }, { error: 'invalid_token', description: 'The access token is malformed' }),
    );
    expect(response.body).not.toContain(INJECTED);
    await vi.waitFor(() => expect(logged).toHaveBeenCalled());
    const log = logged.mock.calls
      .flat()
      .map((value) => inspect(value))
      .join('\n');
    expect(log).toContain('token_malformed');
    expect(log).not.toContain(INJECTED);
  });
});
