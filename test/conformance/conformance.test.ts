/**
 * The adapter conformance suite: every case of `cases.ts` runs against Express, Koa, Fastify
 * (with its hook, and with `hook: false` under `@fastify/auth`), Nest on Express and Nest on
 * Fastify (see `targets.ts`), and every target must produce the same whole outcome: status, JSON
 * body (`error`, `error_description`, `code`), the exact `WWW-Authenticate` (the Bearer and DPoP
 * challenges, with RFC 9470's `acr_values` and `max_age` on a step-up refusal), `Retry-After` on
 * 503, `Cache-Control: no-store` on authenticated answers, a `DPoP-Nonce` exactly where one is due,
 * never the token in the response, and no request to any authorization server where a case says
 * so (`offline`).
 */
import type { CertboundOptions } from '@certbound/core';
import {
  createTestIssuer,
  createTestPki,
  dpopThumbprint,
  httpsRequest,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { generateKeyPair } from 'jose';
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
  type Refusal,
  type RequestSpec,
  type Success,
  type TargetContext,
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
  const [issuer, secondIssuer, downIssuer] = await Promise.all([
    createTestIssuer({ pki }),
    createTestIssuer({ pki, audience: 'https://partner-api.example.test' }),
    createTestIssuer({ pki }),
  ]);
  downIssuer.outage('down');
  const subject = 'CN=client-a, O=certbound';
  const resource = `${issuer.audience.replace(/\/$/, '')}/payments`;
  const [clientA, clientB] = await Promise.all([pki.issueClient({ subject }), pki.issueClient({ subject })]);
  const [dpopKey, otherDpopKey] = await Promise.all([
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
  ]);
  fixtures = {
    issuer,
    secondIssuer,
    downIssuer,
    clientA,
    clientB,
    resource,
    metadataUrl: `${new URL(resource).origin}/.well-known/oauth-protected-resource/payments`,
    mint: (options = {}) => issuer.mintAccessToken({ certificate: clientA, scope: 'read', ...options }),
    dpopKey,
    dpopJkt: await dpopThumbprint(dpopKey),
    otherDpopKey,
    mintDpop: (options = {}) => issuer.mintAccessToken({ dpopKey, scope: 'read', ...options }),
  };
  const protectedResource = { resource, scopesSupported: ['read', 'write'], resourceName: 'Conformance API' };
  const header = { from: 'header', format: 'rfc9440' } as const;
  const configs: Record<ConfigName, CertboundOptions> = {
    main: optionsFor(issuer),
    ifPresent: optionsFor(issuer, { binding: 'if-present' }),
    headerTrusted: optionsFor(issuer, {
      certificate: { ...header, trustedProxies: ['127.0.0.1/32', '::1'] },
    }),
    headerUntrusted: optionsFor(issuer, { certificate: { ...header, trustedProxies: ['192.0.2.0/24'] } }),
    down: optionsFor(downIssuer),
    metadata: optionsFor(issuer, { protectedResource }),
    noDpop: optionsFor(issuer, { dpop: false }),
    dpopRequired: optionsFor(issuer, { dpop: { required: true }, protectedResource }),
    dpopNonce: optionsFor(issuer, {
      dpop: { nonce: { secret: 'conformance-nonce-secret-of-32-bytes!', lifetimeSeconds: 86_400 } },
    }),
    // Several issuers take no introspection (an opaque token does not say who issued it).
    multiIssuer: {
      issuers: [{ issuer: issuer.issuer }, { issuer: secondIssuer.issuer, audience: secondIssuer.audience }],
      audience: issuer.audience,
      realm: REALM,
      tls: { ca: issuer.ca },
      protectedResource,
    },
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
  await Promise.all([fixtures?.issuer.close(), fixtures?.secondIssuer.close(), fixtures?.downIssuer.close()]);
});

function send(app: RunningApp, spec: RequestSpec) {
  return httpsRequest(`${app.url}${spec.path ?? '/resource'}`, {
    method: spec.method ?? 'GET',
    ca: pki.ca.cert,
    certificate: spec.certificate,
    headers: {
      ...(spec.token === undefined ? {} : { authorization: `Bearer ${spec.token}` }),
      ...(spec.dpop === undefined ? {} : { authorization: `DPoP ${spec.dpop.token}` }),
      // An array is sent as one field line per element.
      ...(spec.dpop === undefined || spec.dpop.proofs.length === 0 ? {} : { dpop: [...spec.dpop.proofs] }),
      ...(spec.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(spec.body)) }),
      ...spec.headers,
    },
    rawHeaders: spec.rawHeaders,
    body: spec.body,
  });
}

/** The schemes each configuration accepts (`dpop: false` Bearer alone, `dpop.required` DPoP alone). */
const ACCEPTED: Partial<Record<ConfigName, Accepted>> = { noDpop: 'Bearer', dpopRequired: 'DPoP' };

/** `DPoP-Nonce` syntax (RFC 9449 §8.1: `1*NQCHAR`). */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The exact `WWW-Authenticate` for an expected failure under `config`, or undefined on 503. */
function expectedChallenge(config: ConfigName, expected: Refusal, description: string): string | undefined {
  if (expected.status === 503) return undefined;
  const params = { realm: REALM, resourceMetadata: expected.resourceMetadata, accepted: ACCEPTED[config] };
  if (expected.error === undefined) return challenge(params);
  return challenge(params, {
    scheme: expected.scheme,
    error: expected.error,
    description,
    scope: expected.scope,
    acrValues: expected.acrValues,
    maxAge: expected.maxAge,
  });
}

const succeeded = (expected: Expected): expected is Success =>
  expected.status === 200 || expected.status === 201;

/** The discovery, JWKS and introspection requests every test issuer has answered so far. */
const issuerCounters = (f: Fixtures) =>
  [f.issuer, f.secondIssuer, f.downIssuer].map((issuer) => ({ ...issuer.counters }));

// '%s' of the name itself: '$name' would print a quoted name cut after 40 characters.
describe.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
  it.each(TARGETS.map((t) => t.name))('%s', async (target) => {
    const app = apps.get(appKey(testCase.config, target))!;
    const context: TargetContext = { url: app.url, send: (spec) => send(app, spec) };
    const spec = await testCase.request(fixtures, context);
    if (spec.replay) {
      const first = await send(app, spec);
      expect(first.status, `the first answer: ${first.body}`).toBe(200);
    }
    const countersBefore = issuerCounters(fixtures);
    const response = await send(app, spec);
    const expected = testCase.expected(fixtures, spec);
    if (testCase.offline) expect(issuerCounters(fixtures)).toEqual(countersBefore);

    expect(response.status).toBe(expected.status);
    for (const token of [spec.token, spec.dpop?.token]) {
      if (token !== undefined) expect(response.body).not.toContain(token);
    }
    const nonceExpected = succeeded(expected) ? expected.headers?.['dpop-nonce'] : expected.dpopNonce;
    if (nonceExpected === undefined) expect(response.headers['dpop-nonce']).toBeUndefined();
    else if (nonceExpected === true) expect(response.headers['dpop-nonce']).toMatch(NONCE);
    if (succeeded(expected)) {
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
    const description = expected.description ?? DESCRIPTIONS[expected.code as keyof typeof DESCRIPTIONS];
    expect(body).toEqual({
      ...(expected.error === undefined ? {} : { error: expected.error }),
      error_description: description,
      code: expected.code,
    });
    expect(response.headers['www-authenticate']).toBe(
      expectedChallenge(testCase.config, expected, description),
    );
  });
});
