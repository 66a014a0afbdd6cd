/**
 * The adapter conformance suite: every case of `cases.ts` runs against Express, Koa, Fastify
 * (with its hook, and with `hook: false` under `@fastify/auth`), Nest on Express and Nest on
 * Fastify (see `targets.ts`), and every target must produce the same whole outcome: status, JSON
 * body (`error`, `error_description`, `code`), the exact `WWW-Authenticate`, `Retry-After` on
 * 503, `Cache-Control: no-store` on authenticated answers, and never the token in the response.
 */
import type { CertboundOptions } from '@certbound/core';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accepted, challenge } from '../support/challenge.js';
import type { RunningApp } from '../support/https-app.js';
import {
  CASES,
  type ConfigName,
  DESCRIPTIONS,
  type Expected,
  type Fixtures,
  REALM,
  type RequestSpec,
} from './cases.js';
import { TARGETS, type TargetName } from './targets.js';

let pki: TestPki;
let fixtures: Fixtures;
const apps = new Map<string, RunningApp>();
const appKey = (config: ConfigName, target: TargetName) => `${config}/${target}`;

function optionsFor(issuer: TestIssuer, extra: Partial<CertboundOptions> = {}): CertboundOptions {
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    realm: REALM,
    tls: { ca: issuer.ca },
    introspection: issuer.introspectionClient,
    ...extra,
  };
}

beforeAll(async () => {
  pki = await createTestPki();
  const [issuer, downIssuer] = await Promise.all([createTestIssuer({ pki }), createTestIssuer({ pki })]);
  downIssuer.outage('down');
  const subject = 'CN=client-a, O=certbound';
  const resource = `${issuer.audience.replace(/\/$/, '')}/payments`;
  const [clientA, clientB] = await Promise.all([pki.issueClient({ subject }), pki.issueClient({ subject })]);
  fixtures = {
    issuer,
    downIssuer,
    clientA,
    clientB,
    resource,
    metadataUrl: `${new URL(resource).origin}/.well-known/oauth-protected-resource/payments`,
    mint: (options = {}) => issuer.mintAccessToken({ certificate: clientA, scope: 'read', ...options }),
  };
  const header = { from: 'header', format: 'rfc9440' } as const;
  const configs: Record<ConfigName, CertboundOptions> = {
    main: optionsFor(issuer),
    ifPresent: optionsFor(issuer, { binding: 'if-present' }),
    headerTrusted: optionsFor(issuer, {
      certificate: { ...header, trustedProxies: ['127.0.0.1/32', '::1'] },
    }),
    headerUntrusted: optionsFor(issuer, { certificate: { ...header, trustedProxies: ['192.0.2.0/24'] } }),
    down: optionsFor(downIssuer),
    metadata: optionsFor(issuer, {
      protectedResource: { resource, scopesSupported: ['read', 'write'], resourceName: 'Conformance API' },
    }),
  };
  await Promise.all(
    Object.entries(configs).flatMap(([config, options]) =>
      TARGETS.map(async (target) => {
        apps.set(appKey(config as ConfigName, target.name), await target.start(options, pki));
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all([...apps.values()].map((app) => app.close()));
  await Promise.all([fixtures?.issuer.close(), fixtures?.downIssuer.close()]);
});

function send(app: RunningApp, spec: RequestSpec) {
  return httpsRequest(`${app.url}${spec.path ?? '/resource'}`, {
    method: spec.method ?? 'GET',
    ca: pki.ca.cert,
    certificate: spec.certificate,
    headers: {
      ...(spec.token === undefined ? {} : { authorization: `Bearer ${spec.token}` }),
      ...(spec.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(spec.body)) }),
      ...spec.headers,
    },
    rawHeaders: spec.rawHeaders,
    body: spec.body,
  });
}

/** The schemes each configuration accepts (`dpop: false` Bearer alone, `dpop.required` DPoP alone). */
const ACCEPTED: Partial<Record<ConfigName, Accepted>> = {};

/** The exact `WWW-Authenticate` for an expected failure under `config`, or undefined on 503. */
function expectedChallenge(
  config: ConfigName,
  expected: Exclude<Expected, { status: 200 }>,
  description: string,
): string | undefined {
  if (expected.status === 503) return undefined;
  const params = { realm: REALM, resourceMetadata: expected.resourceMetadata, accepted: ACCEPTED[config] };
  if (expected.error === undefined) return challenge(params);
  return challenge(params, {
    scheme: expected.scheme,
    error: expected.error,
    description,
    scope: expected.scope,
  });
}

describe.each(CASES)('$name', (testCase) => {
  it.each(TARGETS.map((t) => t.name))('%s', async (target) => {
    const spec = await testCase.request(fixtures);
    const response = await send(apps.get(appKey(testCase.config, target))!, spec);
    const expected = testCase.expected(fixtures);

    expect(response.status).toBe(expected.status);
    if (spec.token !== undefined) expect(response.body).not.toContain(spec.token);
    if (expected.status === 200) {
      if (expected.body === null) expect(response.body).toBe('');
      else expect(response.json).toEqual(expected.body);
      expect(response.headers['www-authenticate']).toBeUndefined();
      if (expected.headers) {
        for (const [name, value] of Object.entries(expected.headers)) {
          expect(String(response.headers[name]).split(';')[0]).toBe(value);
        }
      } else if (spec.path !== '/health') {
        expect(response.headers['cache-control']).toBe('no-store');
      }
      return;
    }
    const body = response.json as Record<string, unknown>;
    expect(body.code).toBe(expected.code);
    expect(body.error).toBe(expected.error);
    if (expected.status === 503) {
      expect(response.headers['retry-after']).toBe('5');
    } else {
      expect(response.headers['retry-after']).toBeUndefined();
    }
    if (expected.code === 'invalid_request') {
      // Several descriptions share this code: the body's must be one of them, and the challenge's.
      expect([DESCRIPTIONS.malformed, DESCRIPTIONS.duplicate, DESCRIPTIONS.multipleMethods]).toContain(
        body.error_description,
      );
      expect(response.headers['www-authenticate']).toBe(
        expectedChallenge(testCase.config, expected, String(body.error_description)),
      );
      return;
    }
    expect(body).toEqual({
      ...(expected.error === undefined ? {} : { error: expected.error }),
      error_description: DESCRIPTIONS[expected.code as keyof typeof DESCRIPTIONS],
      code: expected.code,
    });
    expect(response.headers['www-authenticate']).toBe(
      expectedChallenge(testCase.config, expected, DESCRIPTIONS[expected.code as keyof typeof DESCRIPTIONS]),
    );
  });
});
