/**
 * The built packages as users load them: a CommonJS script that `require()`s every package, an
 * ESM script that imports every package, and a Nest app compiled by `tsc` to CommonJS (Nest's
 * default) and to ESM, run with node over real mTLS. Needs `pnpm build` first (the README's test
 * command builds before it runs the tests).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challenge } from '../support/challenge.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const PACKAGES = [
  'core',
  'core/adapter',
  'express',
  'koa',
  'fastify',
  'nest',
  'testing',
  'cli',
  'client-auth',
] as const;

/** Exports each package must offer, whatever the module format. */
const EXPECTED_EXPORTS: Record<(typeof PACKAGES)[number], string[]> = {
  core: [
    'createVerifier',
    'requireScopes',
    'hasScopes',
    'x5tS256',
    'CertboundError',
    'protectedResourceMetadata',
    'DIAGNOSTICS_CHANNELS',
  ],
  'core/adapter': [
    'resolveVerifier',
    'createsVerifier',
    'assertVerifierSource',
    'isVerifier',
    'assertScopeNames',
  ],
  express: ['certbound', 'requireScopes', 'errorHandler', 'CertboundError'],
  koa: ['certbound', 'requireScopes', 'errorHandler', 'CertboundError'],
  fastify: ['certbound', 'requireScopes', 'errorHandler', 'CertboundError'],
  nest: ['CertboundModule', 'CertboundGuard', 'Auth', 'Public', 'Scopes', 'CERTBOUND_VERIFIER'],
  testing: ['createTestPki', 'createTestIssuer', 'httpsRequest', 'serveHttps'],
  cli: ['run'],
  'client-auth': ['verifyClientCertificate', 'CLIENT_CERTIFICATE_FAILURES'],
};

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let files: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const built = (name: string) => {
    const [dir, entry = 'index'] = name.split('/');
    return existsSync(join(root, 'packages', dir!, 'dist', `${entry}.cjs`));
  };
  const missing = PACKAGES.filter((name) => !built(name));
  if (missing.length > 0) throw new Error(`build the packages first (pnpm build): no dist for ${missing}`);
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  await Promise.all([
    run(tsc, ['-p', join(here, 'tsconfig.cjs.json')]),
    run(tsc, ['-p', join(here, 'tsconfig.esm.json')]),
  ]);
  await writeFile(join(here, 'out', 'esm', 'package.json'), '{"type":"module"}\n');

  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
  clientB = await pki.issueClient({ subject: 'CN=client-a' });
  files = await mkdtemp(join(tmpdir(), 'certbound-consumers-'));
  await Promise.all([
    writeFile(join(files, 'issuer-ca.pem'), issuer.ca),
    writeFile(join(files, 'server.pem'), pki.server.cert),
    writeFile(join(files, 'server-key.pem'), pki.server.key),
  ]);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await issuer?.close();
  if (files) await rm(files, { recursive: true, force: true });
});

async function load(script: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [join(here, script)], { cwd: here });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('module formats', () => {
  it.each(['load.cjs', 'load.mjs'])('%s loads every package with its exports', async (script) => {
    const report = await load(script);
    for (const name of PACKAGES) expect(report[name]).toEqual(expect.arrayContaining(EXPECTED_EXPORTS[name]));
    expect(report.crossPackageError).toBe(true);
  });

  it('offers the same named exports to CommonJS and ESM', async () => {
    const [cjs, esm] = await Promise.all([load('load.cjs'), load('load.mjs')]);
    for (const name of PACKAGES) {
      expect((cjs[name] as string[]).filter((key) => key !== 'default')).toEqual(esm[name]);
    }
  });
});

/** Starts the compiled Nest app and resolves with its URL once it prints its port. */
async function startNestApp(format: 'cjs' | 'esm'): Promise<string> {
  const child = spawn(process.execPath, [join(here, 'out', format, 'nest-app.js')], {
    cwd: here,
    env: {
      ...process.env,
      ISSUER: issuer.issuer,
      AUDIENCE: issuer.audience,
      ISSUER_CA_FILE: join(files, 'issuer-ca.pem'),
      TLS_CERT_FILE: join(files, 'server.pem'),
      TLS_KEY_FILE: join(files, 'server-key.pem'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the ${format} Nest app exited with ${code}`))),
  );
  const line = (async () => {
    for await (const text of createInterface({ input: child.stdout! })) return text;
    throw new Error('no output');
  })();
  const { port } = JSON.parse(await Promise.race([line, exited])) as { port: number };
  return `https://127.0.0.1:${port}`;
}

describe('a Nest app compiled by tsc', () => {
  it.each(['cjs', 'esm'] as const)('protects its routes when compiled to %s', async (format) => {
    const url = await startNestApp(format);
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'accounts:read' });
    const call = (path: string, certificate?: TestCertificate) =>
      httpsRequest(`${url}${path}`, {
        ca: pki.ca.cert,
        certificate,
        headers: { authorization: `Bearer ${token}` },
      });

    const health = await httpsRequest(`${url}/health`, { ca: pki.ca.cert });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ ok: true });

    const me = await call('/me', clientA);
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ subject: 'client-a', bound: true, format });

    const stolen = await call('/me', clientB);
    expect(stolen.status).toBe(401);
    expect(stolen.headers['www-authenticate']).toBe(
      challenge(
        { realm: 'api' },
        { error: 'invalid_token', description: 'The access token is bound to another certificate' },
      ),
    );
    expect(stolen.json).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is bound to another certificate',
      code: 'cnf_mismatch',
    });
  });
});
