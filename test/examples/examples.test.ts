/**
 * The four example APIs, run the way their users run them: a child process per example started
 * with tsx in the example's directory, configured only through environment variables, resolving
 * `@certbound/*` through its own node_modules (the built packages). Each one faces a real local
 * authorization server (discovery, JWKS, RFC 7662 introspection over HTTPS) and real mutual-TLS
 * clients, and must give the same whole answers: status, body, `code` and `WWW-Authenticate`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  createTestIssuer,
  createTestPki,
  type HttpsRequestOptions,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengesOf } from '../support/challenge.js';

const EXAMPLES = ['express-api', 'koa-api', 'fastify-api', 'nest-api'] as const;
const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const SUBJECT = 'CN=client-a, O=Example';

const CNF_MISMATCH = 'The access token is bound to another certificate';
const CERTIFICATE_MISSING = 'The access token is certificate-bound but no client certificate was presented';
const INSUFFICIENT_SCOPE = 'The access token lacks the required scope';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<Exit>;
}

let pki: TestPki;
let issuer: TestIssuer;
let client: TestCertificate;
let lookAlike: TestCertificate;
let workDir: string | undefined;
let baseEnv: Record<string, string>;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  client = await pki.issueClient({ subject: SUBJECT });
  // Same subject, another key: only the thumbprint tells them apart (RFC 8705 §3.1).
  lookAlike = await pki.issueClient({ subject: SUBJECT });
  workDir = await mkdtemp(join(tmpdir(), 'certbound-examples-'));
  const files = {
    'server.pem': pki.server.cert,
    'server-key.pem': pki.server.key,
    'issuer-ca.pem': issuer.ca,
  };
  for (const [name, pem] of Object.entries(files)) await writeFile(join(workDir, name), pem, { mode: 0o600 });
  baseEnv = {
    ISSUER: issuer.issuer,
    AUDIENCE: issuer.audience,
    TLS_CERT_FILE: join(workDir, 'server.pem'),
    TLS_KEY_FILE: join(workDir, 'server-key.pem'),
    ISSUER_CA_FILE: join(workDir, 'issuer-ca.pem'),
    PORT: '0',
    HOST: '127.0.0.1',
    INTROSPECTION_CLIENT_ID: issuer.introspectionClient.clientId,
    INTROSPECTION_CLIENT_SECRET: issuer.introspectionClient.clientSecret,
  };
});

afterAll(async () => {
  await Promise.all([...children].map(stop));
  await issuer?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Spawns `node --import tsx src/server.ts` in the example's directory, with only `env` (and PATH). */
function spawnExample(
  name: string,
  env: Record<string, string>,
): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(EXAMPLES_DIR, name),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited };
}

/** Starts an example and resolves once it prints `{"listening":"https://…"}`. */
function start(name: string, env: Record<string, string>): Promise<Running> {
  const { child, exited } = spawnExample(name, env);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`));
      void stop(child);
    }, START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      const url = (message as { listening?: unknown } | null)?.listening;
      if (typeof url !== 'string') return;
      clearTimeout(timer);
      resolve({ child, url, exited });
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${exit.code ?? exit.signal}) before listening:\n${stderr}`));
    });
  });
}

/** SIGTERM, then SIGKILL if the child is still there after a grace period. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exit;
  clearTimeout(timer);
}

describe.each(EXAMPLES)('examples/%s', (name) => {
  const realm = `${name} realm`;
  let api: Running;
  let behindProxy: Running;

  beforeAll(async () => {
    [api, behindProxy] = await Promise.all([
      start(name, { ...baseEnv, REALM: realm }),
      // RFC 9440: a TLS-terminating proxy (the test itself, on 127.0.0.1) forwards the certificate.
      start(name, {
        ...baseEnv,
        REALM: realm,
        CERTIFICATE_SOURCE: 'header',
        CERTIFICATE_HEADER_FORMAT: 'rfc9440',
        TRUSTED_PROXIES: '127.0.0.1, ::1',
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([api, behindProxy].filter(Boolean).map((running) => stop(running.child)));
  });

  const call = (
    path: string,
    options: Omit<HttpsRequestOptions, 'ca'> & { token?: string; target?: Running } = {},
  ) => {
    const { token, target = api, headers, ...rest } = options;
    return httpsRequest(`${target.url}${path}`, {
      ...rest,
      ca: pki.ca.cert,
      headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    });
  };

  const challengeOf = challengesOf({ realm });
  const challenge = (error: string, description: string, scope?: string) =>
    challengeOf({ error, description, scope });

  it('serves /health without credentials', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('answers a request without a token with the bare Bearer and DPoP challenges (RFC 6750 §3.1, RFC 9449 §7.1)', async () => {
    const res = await call('/accounts', { certificate: client });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challengeOf());
    expect(res.json).toEqual({ error_description: 'Authentication required', code: 'credentials_missing' });
  });

  it('lists accounts for a bound token presented with its certificate', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'accounts:read' });
    const res = await call('/accounts', { certificate: client, token });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toEqual({ accounts: [{ id: 'acc-1', balance: '1200.00' }], client: 'client-a' });
  });

  it('refuses the same token with a look-alike certificate: cnf_mismatch', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'accounts:read' });
    const res = await call('/accounts', { certificate: lookAlike, token });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challenge('invalid_token', CNF_MISMATCH));
    expect(res.json).toEqual({
      error: 'invalid_token',
      error_description: CNF_MISMATCH,
      code: 'cnf_mismatch',
    });
  });

  it('refuses the same token without a client certificate: certificate_missing', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'accounts:read' });
    const res = await call('/accounts', { token });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challenge('invalid_token', CERTIFICATE_MISSING));
    expect(res.json).toEqual({
      error: 'invalid_token',
      error_description: CERTIFICATE_MISSING,
      code: 'certificate_missing',
    });
  });

  it('refuses a payment without payments:write: 403 insufficient_scope', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'accounts:read' });
    const res = await call('/payments', {
      method: 'POST',
      certificate: client,
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '25.00' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      challenge('insufficient_scope', INSUFFICIENT_SCOPE, 'payments:write'),
    );
    expect(res.json).toEqual({
      error: 'insufficient_scope',
      error_description: INSUFFICIENT_SCOPE,
      code: 'insufficient_scope',
    });
  });

  it('creates a payment with payments:write', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'payments:write' });
    const res = await call('/payments', {
      method: 'POST',
      certificate: client,
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '25.00' }),
    });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: 'pay-1', amount: '25.00', client: 'client-a' });
  });

  it('describes a JWT on /me', async () => {
    const token = await issuer.mintAccessToken({
      certificate: client,
      scope: 'accounts:read payments:write',
    });
    const res = await call('/me', { certificate: client, token });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      subject: 'client-a',
      clientId: 'client-a',
      scopes: ['accounts:read', 'payments:write'],
      thumbprint: client.thumbprint,
      bound: true,
      format: 'jwt',
    });
  });

  it('accepts a bound opaque token through RFC 7662 introspection', async () => {
    const token = issuer.mintOpaqueToken({ certificate: client, scope: 'accounts:read' });
    const res = await call('/me', { certificate: client, token });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      subject: 'client-a',
      clientId: 'client-a',
      scopes: ['accounts:read'],
      thumbprint: client.thumbprint,
      bound: true,
      format: 'opaque',
    });
  });

  it('behind a proxy, binds to the certificate in the header, never the TLS one (RFC 8705 §6.5)', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'accounts:read' });
    const forwarded = { 'client-cert': `:${client.der.toString('base64')}:` };
    const viaHeader = await call('/accounts', { target: behindProxy, token, headers: forwarded });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.json).toEqual({ accounts: [{ id: 'acc-1', balance: '1200.00' }], client: 'client-a' });

    const viaTls = await call('/accounts', { target: behindProxy, token, certificate: client });
    expect(viaTls.status).toBe(401);
    expect(viaTls.headers['www-authenticate']).toBe(challenge('invalid_token', CERTIFICATE_MISSING));
    expect(viaTls.json).toEqual({
      error: 'invalid_token',
      error_description: CERTIFICATE_MISSING,
      code: 'certificate_missing',
    });
  });

  it('refuses to start without ISSUER, naming it', async () => {
    const { ISSUER: _issuer, ...env } = baseEnv;
    const { child, exited } = spawnExample(name, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    expect(await exited).toEqual({ code: 1, signal: null });
    expect(stderr).toContain('ISSUER is required');
    expect(stdout).toBe('');
  });

  it('shuts down cleanly on SIGTERM (exit status 0)', async () => {
    const timer = setTimeout(() => api.child.kill('SIGKILL'), STOP_GRACE_MS);
    api.child.kill('SIGTERM');
    const exit = await api.exited;
    clearTimeout(timer);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
