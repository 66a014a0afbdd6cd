/**
 * A failure of the authorization server costs only the requests it touched: the next request
 * tries again (no hold-down), a token that makes the server fail is that token's problem, and
 * one client cannot turn many random tokens into as many introspection calls. Express over real
 * mTLS, the test issuer as the authorization server.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS, type IntrospectionEvent } from '@certbound/core';
import { certbound, errorHandler } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
} from '@certbound/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

let issuer: TestIssuer;
let client: TestCertificate;
let app: RunningApp;
let cappedApp: RunningApp;

function api(maxConcurrentCalls?: number) {
  const server = express();
  server.use(
    certbound({
      issuer: issuer.issuer,
      audience: issuer.audience,
      tls: { ca: issuer.ca },
      tokenFormat: 'opaque',
      introspection: {
        ...issuer.introspectionClient,
        endpoint: issuer.introspectionEndpoint,
        timeoutMs: 1_000,
        ...(maxConcurrentCalls === undefined ? {} : { maxConcurrentCalls }),
        cache: false,
      },
    }),
  );
  server.get('/me', (req, res) => {
    res.json({ clientId: req.auth?.clientId });
  });
  server.use(errorHandler());
  return server;
}

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  client = await pki.issueClient({ subject: 'CN=client-a' });
  app = await startHttpsApp(api(), pki);
  cappedApp = await startHttpsApp(api(2), pki);
});

afterAll(async () => {
  await Promise.all([app?.close(), cappedApp?.close(), issuer?.close()]);
});

const call = (target: RunningApp, token: string) =>
  httpsRequest(`${target.url}/me`, {
    ca: issuer.ca,
    certificate: client,
    headers: { authorization: `Bearer ${token}` },
  });

const UNAVAILABLE = {
  error_description: 'The authorization server is unavailable',
  code: 'authorization_server_unavailable',
};

describe('after the authorization server fails', () => {
  it('answers 503 to the request the failure touched and 200 to the very next one', async () => {
    const token = issuer.mintOpaqueToken({ certificate: client });
    issuer.outage('error');
    const failed = await call(app, token);
    issuer.outage('none');
    const next = await call(app, token);

    expect(failed.status).toBe(503);
    expect(failed.json).toEqual(UNAVAILABLE);
    expect(failed.headers['retry-after']).toBe('5');
    expect(failed.headers['www-authenticate']).toBeUndefined();
    expect(next.status).toBe(200);
    expect(next.json).toEqual({ clientId: 'client-a' });
  });

  it('recovers at once from a timeout, a connection reset and a non-JSON answer', async () => {
    for (const mode of ['slow', 'down', 'garbage'] as const) {
      const token = issuer.mintOpaqueToken({ certificate: client });
      issuer.outage(mode);
      const failed = await call(app, token);
      issuer.outage('none');
      const next = await call(app, token);
      expect([mode, failed.status, failed.json]).toEqual([mode, 503, UNAVAILABLE]);
      expect([mode, next.status]).toEqual([mode, 200]);
    }
  });

  it('never turns a legitimate new token into a 503 while an attacker keeps sending a token that makes the server fail', async () => {
    const attacker = issuer.mintOpaqueToken({ certificate: client });
    issuer.outage('error', { token: attacker });
    try {
      for (let round = 0; round < 10; round++) {
        const [attack, legitimate] = await Promise.all([
          call(app, attacker),
          call(app, issuer.mintOpaqueToken({ certificate: client })),
        ]);
        const afterwards = await call(app, issuer.mintOpaqueToken({ certificate: client }));
        expect([round, attack.status, attack.json]).toEqual([round, 503, UNAVAILABLE]);
        expect([round, legitimate.status, afterwards.status]).toEqual([round, 200, 200]);
      }
    } finally {
      issuer.outage('none', { token: attacker });
    }
  });
});

describe('the cap on introspection calls in flight', () => {
  it('answers 503 at once beyond the cap, reports it, and serves new tokens again once calls finish', async () => {
    const events: IntrospectionEvent[] = [];
    const listener = (message: unknown) => events.push(message as IntrospectionEvent);
    subscribe(DIAGNOSTICS_CHANNELS.introspection, listener);
    const stalled = [issuer.mintOpaqueToken(), issuer.mintOpaqueToken()];
    for (const token of stalled) issuer.outage('slow', { token });
    try {
      const before = issuer.counters.introspection;
      const pending = stalled.map((token) => call(cappedApp, token));
      // Both slots are taken once the issuer has seen both calls.
      while (issuer.counters.introspection < before + 2)
        await new Promise((resolve) => setTimeout(resolve, 5));
      const refused = await call(cappedApp, issuer.mintOpaqueToken({ certificate: client }));
      expect(refused.status).toBe(503);
      expect(refused.json).toEqual(UNAVAILABLE);
      expect(refused.headers['retry-after']).toBe('1');
      expect(events.filter((event) => event.outcome === 'overloaded')).toHaveLength(1);

      const timedOut = await Promise.all(pending);
      expect(timedOut.map((response) => response.status)).toEqual([503, 503]);
      const served = await call(cappedApp, issuer.mintOpaqueToken({ certificate: client }));
      expect(served.status).toBe(200);
    } finally {
      unsubscribe(DIAGNOSTICS_CHANNELS.introspection, listener);
      for (const token of stalled) issuer.outage('none', { token });
    }
  });
});
