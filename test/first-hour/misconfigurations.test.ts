/**
 * Misconfigurations look different from attacks: what a developer sees when certbound is wired
 * wrongly (a start-up TypeError that names the fix, a process warning, a 500 naming the order),
 * over real HTTPS with real client certificates.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createVerifier, type DecisionEvent, DIAGNOSTICS_CHANNELS } from '@certbound/core';
import * as expressAdapter from '@certbound/express';
import * as koaAdapter from '@certbound/koa';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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
});

afterAll(async () => {
  await Promise.all([...apps.map((app) => app.close()), issuer?.close()]);
});

const options = () => ({ issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca } });

describe('start-up errors that say what to do', () => {
  it.each([
    ['express', () => (expressAdapter.certbound as (o?: unknown) => unknown)()],
    ['koa', () => (koaAdapter.certbound as (o?: unknown) => unknown)()],
    ['core', () => createVerifier(undefined as never)],
  ])('%s: certbound() without options throws the options TypeError', (_name, create) => {
    expect(create).toThrow(new TypeError('Invalid certbound options: expected an object'));
  });

  it.each([
    ['audiance', 'Invalid certbound option: unknown option "audiance" (did you mean "audience"?)'],
    [
      'clockTolerance',
      'Invalid certbound option: unknown option "clockTolerance" (did you mean "clockToleranceSeconds"?)',
    ],
    ['jwksUrl', 'Invalid certbound option: unknown option "jwksUrl" (did you mean "jwksUri"?)'],
    ['zzz', 'Invalid certbound option: unknown option "zzz"'],
  ])('suggests the option meant by %s', (name, message) => {
    expect(() => createVerifier({ ...options(), [name]: 1 } as never)).toThrow(new TypeError(message));
  });

  it('tells a developer who gives tls.ca as a file path to read the file', () => {
    expect(() => createVerifier({ ...options(), tls: { ca: '/etc/ssl/issuer-ca.pem' } })).toThrow(
      new TypeError(
        'Invalid certbound option: "tls.ca" must be PEM text, not a file name: read the file first (fs.readFileSync("/etc/ssl/issuer-ca.pem", \'utf8\'))',
      ),
    );
    expect(() => createVerifier({ ...options(), tls: { ca: Buffer.from([0x30, 0x82, 0x01]) } })).toThrow(
      new TypeError(
        'Invalid certbound option: "tls.ca" must be a PEM string, a Buffer, or an array of them in PEM form (-----BEGIN …)',
      ),
    );
  });
});

describe('a server that never asks for client certificates', () => {
  it('still refuses with certificate_missing, and warns once naming requestCert', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const app = express();
    app.use(expressAdapter.certbound(options()));
    app.get('/me', (_req, res) => {
      res.json({});
    });
    app.use(expressAdapter.errorHandler());
    const server = createServer({ cert: pki.server.cert, key: pki.server.key }, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/me`;
      const token = await issuer.mintAccessToken({ certificate: client });
      for (let i = 0; i < 2; i++) {
        const response = await httpsRequest(url, {
          ca: issuer.ca,
          certificate: client,
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(401);
        expect((response.json as { code: string }).code).toBe('certificate_missing');
      }
      const warnings = warn.mock.calls.filter(
        ([, o]) => (o as { code?: string })?.code === 'CERTBOUND_NO_REQUEST_CERT',
      );
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]![0])).toContain('requestCert: true');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('requireScopes() mounted before certbound()', () => {
  it('express: answers 500 naming the order, not a 401 that blames the token', async () => {
    const app = express();
    app.get('/admin', expressAdapter.requireScopes('admin'), (_req, res) => {
      res.json({});
    });
    app.use(expressAdapter.certbound(options()));
    app.use(expressAdapter.errorHandler());
    let seen: unknown;
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen = error;
      res.status((error as { status: number }).status).end();
    });
    const running = await startHttpsApp(app, pki);
    apps.push(running);
    const response = await httpsRequest(`${running.url}/admin`, {
      ca: issuer.ca,
      certificate: client,
      headers: {
        authorization: `Bearer ${await issuer.mintAccessToken({ certificate: client, scope: 'admin' })}`,
      },
    });
    expect(response.status).toBe(500);
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect(seen).toBeInstanceOf(expressAdapter.CertboundConfigurationError);
    expect((seen as Error).message).toBe(
      'requireScopes() found no authenticated request: mount certbound() before it, and do not use it on routes certbound() skips',
    );
  });

  it('koa: answers 500, with the message for the developer and not for the client', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(koaAdapter.requireScopes('admin'));
    app.use(koaAdapter.certbound(options()));
    const running = await startHttpsApp(app.callback(), pki);
    apps.push(running);
    const response = await httpsRequest(`${running.url}/admin`, { ca: issuer.ca, certificate: client });
    expect(response.status).toBe(500);
    expect(response.body).toBe('Internal Server Error');
  });
});

describe('a 503 says why, to the operator', () => {
  it('publishes tls_untrusted with the origin, and warns once per reason', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const events: DecisionEvent[] = [];
    const listener = (message: unknown) => events.push(message as DecisionEvent);
    subscribe(DIAGNOSTICS_CHANNELS.decision, listener);
    // No tls.ca: the issuer's certificate (from the test CA) is not trusted.
    const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience });
    try {
      const token = await issuer.mintAccessToken({ certificate: client });
      for (let i = 0; i < 2; i++) {
        const refused = await verifier
          .verify({ authorization: `Bearer ${token}`, certificate: client.cert })
          .catch((error: unknown) => error as { status: number; code: string });
        expect(refused).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
      }
      expect(events.map((event) => [event.status, event.reason, event.origin])).toEqual([
        [503, 'tls_untrusted', issuer.issuer],
        [503, 'tls_untrusted', issuer.issuer],
      ]);
      const warnings = warn.mock.calls.filter(
        ([, o]) => (o as { code?: string })?.code === 'CERTBOUND_AUTHORIZATION_SERVER_UNAVAILABLE',
      );
      expect(warnings.map(([message]) => message)).toEqual([
        `the authorization server at ${issuer.issuer} gave no usable answer (tls_untrusted): requests needing it get 503`,
      ]);
    } finally {
      unsubscribe(DIAGNOSTICS_CHANNELS.decision, listener);
      await verifier.close();
    }
  });
});
