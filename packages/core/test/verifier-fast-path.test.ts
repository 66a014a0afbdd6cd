/**
 * The verifier's fast path (docs/architecture.md, "Performance"): a token validated before is
 * decided without a promise (`authenticateNow`), and a connection that sends the same
 * `Authorization` value again reuses its parse. Neither may change an outcome: a connection that
 * changes its token, a remembered refusal, a DPoP proof and an expired token are decided as ever.
 */
import { X509Certificate } from 'node:crypto';
import { Agent, request as httpsGet } from 'node:https';
import { CertboundError, type CertboundOptions, createVerifier, type Verifier } from '@certbound/core';
import { authenticateNow, type NodeRequest } from '@certbound/core/adapter';
import {
  createDpopProof,
  createTestIssuer,
  createTestPki,
  serveHttps,
  type TestCertificate,
  type TestIssuer,
  type TestServer,
} from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testKey } from './support/keys.js';
import { failure } from './support/outcomes.js';

let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
const verifiers: Verifier[] = [];

function verifierFor(extra: Partial<CertboundOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwks: issuer.jwks,
    ...extra,
  });
  verifiers.push(verifier);
  return verifier;
}

/** A connection as the TLS certificate source sees it: one socket object, TLS 1.3, `client`'s certificate. */
function connection(client: TestCertificate): object {
  const peer = new X509Certificate(client.der);
  return {
    encrypted: true,
    getPeerX509Certificate: () => peer,
    getProtocol: () => 'TLSv1.3',
    getFinished: () => undefined,
  };
}

function requestOn(socket: object, authorization: string): NodeRequest {
  return {
    method: 'GET',
    url: '/accounts',
    headers: { host: 'api.example.com', authorization },
    rawHeaders: ['Host', 'api.example.com', 'Authorization', authorization],
    socket,
  } as unknown as NodeRequest;
}

/** What a refusal tells the client. */
function refusalOf(error: CertboundError) {
  return { status: error.status, code: error.code, challenge: error.headers['www-authenticate'] };
}

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  [clientA, clientB] = await Promise.all([
    pki.issueClient({ subject: 'CN=client-a' }),
    pki.issueClient({ subject: 'CN=client-b' }),
  ]);
});

afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await issuer.close();
});

describe('authenticateNow', () => {
  it('waits for a token it has not validated, then decides the same token without a promise', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'accounts:read' });
    const socket = connection(clientA);
    const first = authenticateNow(verifier, requestOn(socket, `Bearer ${token}`));
    expect(first).toBeInstanceOf(Promise);
    const awaited = await first;
    const now = authenticateNow(verifier, requestOn(socket, `Bearer ${token}`));
    expect(now).not.toBeInstanceOf(Promise);
    expect(now).not.toBe(awaited);
    expect({ ...now }).toEqual({ ...awaited });
    expect(now).toMatchObject({ bound: true, thumbprint: clientA.thumbprint, scopes: ['accounts:read'] });
    // Another connection presenting the token validated before: no promise either.
    expect(authenticateNow(verifier, requestOn(connection(clientA), `Bearer ${token}`))).not.toBeInstanceOf(
      Promise,
    );
    // And `authenticate` keeps its contract: always a promise.
    const later = verifier.authenticate(requestOn(socket, `Bearer ${token}`));
    expect(later).toBeInstanceOf(Promise);
    expect({ ...(await later) }).toEqual({ ...awaited });
  });

  it('still checks the binding, the time claims and the scheme on every request', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const verifier = verifierFor();
      const token = await issuer.mintAccessToken({ certificate: clientA, expiresIn: 120 });
      await authenticateNow(verifier, requestOn(connection(clientA), `Bearer ${token}`));
      const elsewhere = (): unknown =>
        authenticateNow(verifier, requestOn(connection(clientB), `Bearer ${token}`));
      expect(elsewhere).toThrow(CertboundError);
      expect(refusalOf(await failure(elsewhere))).toEqual({
        status: 401,
        code: 'cnf_mismatch',
        challenge:
          'Bearer realm="api", error="invalid_token", error_description="The access token is bound to another certificate", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
      });
      // Past `exp` and the default clock tolerance.
      vi.setSystemTime(Date.now() + 300_000);
      expect(
        refusalOf(
          await failure(() => authenticateNow(verifier, requestOn(connection(clientA), `Bearer ${token}`))),
        ),
      ).toMatchObject({
        status: 401,
        code: 'token_expired',
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('throws a remembered refusal without a promise, challenge included', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    const socket = connection(clientA);
    const first = await failure(
      authenticateNow(verifier, requestOn(socket, `Bearer ${forged}`)) as Promise<unknown>,
    );
    let thrown: unknown;
    try {
      authenticateNow(verifier, requestOn(socket, `Bearer ${forged}`));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CertboundError);
    expect(refusalOf(thrown as CertboundError)).toEqual(refusalOf(first));
    expect(refusalOf(first)).toEqual({
      status: 401,
      code: 'token_signature_invalid',
      challenge: expect.stringMatching(/^Bearer realm="api", error="invalid_token", /),
    });
  });

  it('always waits under the DPoP scheme: the proof is checked and spent on every request', async () => {
    const verifier = verifierFor();
    const key = await testKey('ES256');
    const token = await issuer.mintAccessToken({ dpopKey: key });
    const socket = connection(clientA);
    const send = async () => {
      const proof = await createDpopProof({
        key,
        method: 'GET',
        url: 'https://api.example.com/accounts',
        accessToken: token,
      });
      const req = requestOn(socket, `DPoP ${token}`);
      (req.rawHeaders as string[]).push('DPoP', proof);
      return { decision: authenticateNow(verifier, req) };
    };
    const first = (await send()).decision;
    expect(first).toBeInstanceOf(Promise);
    expect((await first).scheme).toBe('DPoP');
    const second = (await send()).decision;
    expect(second).toBeInstanceOf(Promise);
    expect(await second).toMatchObject({ scheme: 'DPoP', bound: true });
  });
});

describe('one connection, several Authorization values', () => {
  it('decides each request on its own value when a connection changes its token', async () => {
    const verifier = verifierFor();
    const [mine, theirs, unbound] = await Promise.all([
      issuer.mintAccessToken({ certificate: clientA, scope: 'a' }),
      issuer.mintAccessToken({ certificate: clientB, scope: 'b' }),
      issuer.mintAccessToken({ scope: 'c' }),
    ]);
    const socket = connection(clientA);
    const outcome = async (authorization: string) => {
      try {
        const auth = await authenticateNow(verifier, requestOn(socket, authorization));
        return { scopes: auth.scopes, bound: auth.bound };
      } catch (error) {
        return { status: (error as CertboundError).status, code: (error as CertboundError).code };
      }
    };
    const tamperedAt = mine.length - 5;
    const tampered = `${mine.slice(0, tamperedAt)}${mine[tamperedAt] === 'A' ? 'B' : 'A'}${mine.slice(tamperedAt + 1)}`;
    const sequence = [
      [`Bearer ${mine}`, { scopes: ['a'], bound: true }],
      [`Bearer ${mine}`, { scopes: ['a'], bound: true }],
      [`Bearer ${theirs}`, { status: 401, code: 'cnf_mismatch' }],
      [`Bearer ${mine}`, { scopes: ['a'], bound: true }],
      [`Bearer ${tampered}`, { status: 401, code: 'token_signature_invalid' }],
      [`Bearer ${unbound}`, { status: 401, code: 'token_unbound' }],
      [`Bearer ${mine} x`, { status: 400, code: 'invalid_request' }],
      [`Basic ${mine}`, { status: 401, code: 'credentials_missing' }],
      [`bearer  ${mine}`, { scopes: ['a'], bound: true }],
      [`Bearer ${mine}`, { scopes: ['a'], bound: true }],
    ] as const;
    const outcomes = [];
    for (const [authorization] of sequence) outcomes.push(await outcome(authorization));
    expect(outcomes).toEqual(sequence.map(([, expected]) => expected));
  });

  it('keeps the connections apart: two connections alternating two tokens each get their own', async () => {
    const verifier = verifierFor();
    const [forA, forB] = await Promise.all([
      issuer.mintAccessToken({ certificate: clientA, scope: 'a' }),
      issuer.mintAccessToken({ certificate: clientB, scope: 'b' }),
    ]);
    const [socketA, socketB] = [connection(clientA), connection(clientB)];
    for (let round = 0; round < 3; round++) {
      expect((await authenticateNow(verifier, requestOn(socketA, `Bearer ${forA}`))).scopes).toEqual(['a']);
      expect((await authenticateNow(verifier, requestOn(socketB, `Bearer ${forB}`))).scopes).toEqual(['b']);
      const swapped = await failure(() => authenticateNow(verifier, requestOn(socketA, `Bearer ${forB}`)));
      expect(swapped.code).toBe('cnf_mismatch');
    }
  });

  it('over one real keep-alive TLS connection: the token of each request decides it', async () => {
    const verifier = verifierFor();
    const [mine, theirs] = await Promise.all([
      issuer.mintAccessToken({ certificate: clientA }),
      issuer.mintAccessToken({ certificate: clientB }),
    ]);
    const sockets = new Set<unknown>();
    const api: TestServer = await serveHttps(
      (req, res) => {
        sockets.add(req.socket);
        Promise.resolve()
          .then(() => authenticateNow(verifier, req))
          .then(
            (auth) => res.writeHead(200).end(auth.thumbprint),
            (error: CertboundError) => res.writeHead(error.status).end(error.code),
          );
      },
      { pki: issuer.pki },
    );
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: issuer.pki.ca.cert,
      cert: clientA.cert,
      key: clientA.key,
    });
    const call = (token: string) =>
      new Promise<string>((resolve, reject) => {
        const req = httpsGet(
          `${api.url}/accounts`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve(`${res.statusCode} ${body}`));
          },
        );
        req.on('error', reject).end();
      });
    try {
      const outcomes = [];
      for (const token of [mine, mine, theirs, mine, theirs]) outcomes.push(await call(token));
      expect(outcomes).toEqual([
        `200 ${clientA.thumbprint}`,
        `200 ${clientA.thumbprint}`,
        '401 cnf_mismatch',
        `200 ${clientA.thumbprint}`,
        '401 cnf_mismatch',
      ]);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
      await api.close();
    }
  });
});
