/**
 * The packages as someone outside this repository gets them before publication: each package is
 * packed with `pnpm pack` (which turns `workspace:^` into versions), the tarballs are installed
 * with npm into a fresh app in the system's temp directory (no workspace above it), and small
 * programs of that app — Express, Koa, Fastify, Nest on Express and Nest on Fastify, each as
 * CommonJS and as ESM (`apps/`) — serve over mutual TLS from that install, each in its own
 * process. The tarballs themselves carry their README and LICENSE and built files only.
 *
 * It builds nothing: run `pnpm build` first (the README's test command builds before the tests).
 * npm needs the registry for the frameworks (`--prefer-offline` uses npm's cache when it can).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
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

const execFileAsync = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** The frameworks the programs use, installed at the versions this repository uses. */
const FRAMEWORKS = [
  'express',
  'koa',
  'fastify',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'reflect-metadata',
  'rxjs',
];

/** The programs of `apps/`, with their argument (Nest's platform). */
const PROGRAMS: { label: string; program: string; platform?: 'express' | 'fastify' }[] = [
  { label: 'Express (CommonJS)', program: 'express.cjs' },
  { label: 'Express (ESM)', program: 'express.mjs' },
  { label: 'Koa (CommonJS)', program: 'koa.cjs' },
  { label: 'Koa (ESM)', program: 'koa.mjs' },
  { label: 'Fastify (CommonJS)', program: 'fastify.cjs' },
  { label: 'Fastify (ESM)', program: 'fastify.mjs' },
  { label: 'Nest on Express (CommonJS)', program: 'nest.cjs', platform: 'express' },
  { label: 'Nest on Express (ESM)', program: 'nest.mjs', platform: 'express' },
  { label: 'Nest on Fastify (CommonJS)', program: 'nest.cjs', platform: 'fastify' },
  { label: 'Nest on Fastify (ESM)', program: 'nest.mjs', platform: 'fastify' },
];

interface Manifest {
  name: string;
  version: string;
  main?: string;
  module?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface PackedPackage {
  /** The folder under packages/. */
  folder: string;
  manifest: Manifest;
  tarball: string;
  /** Where the tarball was unpacked (its `package/` folder). */
  unpacked: string;
}

let temp: string;
let tarballs: string;
let app: string;
let packed: PackedPackage[];
let pki: TestPki;
let issuer: TestIssuer;
let client: TestCertificate;
let token: string;
const children = new Set<ChildProcess>();

/** Runs a command; a failure says which command and what it printed. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`, { cause: error });
  }
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T;

/** Every file under `dir`, as sorted paths relative to it with `/` separators. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

/** The files package.json points at: main, module, types, bin and every export. */
function entryFiles(manifest: Manifest): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') found.add(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit([manifest.main, manifest.module, manifest.types, manifest.bin, manifest.exports]);
  return [...found].sort();
}

async function packAll(): Promise<PackedPackage[]> {
  const folders = (await readdir(join(root, 'packages'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const packages = await Promise.all(
    folders.map(async (folder) => ({
      folder,
      manifest: await readJson<Manifest>(join(root, 'packages', folder, 'package.json')),
    })),
  );
  const unbuilt = packages.filter(({ folder, manifest }) =>
    entryFiles(manifest).some(
      (file) => file !== 'package.json' && !existsSync(join(root, 'packages', folder, file)),
    ),
  );
  if (unbuilt.length > 0) {
    throw new Error(
      `build the packages first (pnpm build): no dist for ${unbuilt.map((p) => p.manifest.name).join(', ')}`,
    );
  }

  tarballs = join(temp, 'tarballs');
  await run('pnpm', ['-r', '--filter', './packages/**', 'pack', '--pack-destination', tarballs], root);
  return Promise.all(
    packages.map(async ({ folder, manifest }) => {
      const tarball = join(
        tarballs,
        `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`,
      );
      const into = join(temp, 'unpacked', folder);
      await mkdir(into, { recursive: true });
      await run('tar', ['-xzf', tarball, '-C', into], temp);
      return { folder, manifest, tarball, unpacked: join(into, 'package') };
    }),
  );
}

/** A fresh app outside the repository with every tarball and the frameworks installed by npm. */
async function installApp(): Promise<void> {
  app = join(temp, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'certbound-tarballs-app', version: '1.0.0', private: true }, null, 2)}\n`,
  );
  for (const file of await readdir(join(here, 'apps')))
    await copyFile(join(here, 'apps', file), join(app, file));
  const frameworks = await Promise.all(
    FRAMEWORKS.map(async (name) => {
      const { version } = await readJson<Manifest>(join(root, 'node_modules', name, 'package.json'));
      return `${name}@${version}`;
    }),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...packed.map((p) => p.tarball),
      ...frameworks,
    ],
    app,
  );
}

beforeAll(async () => {
  // The real path: require.resolve() answers with it where the temp directory is a symbolic link.
  temp = await realpath(await mkdtemp(join(tmpdir(), 'certbound-tarballs-')));
  const credentials = (async () => {
    pki = await createTestPki();
    issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
    client = await pki.issueClient({ subject: 'CN=client-a' });
    // Minted before npm install, which can take minutes: valid for an hour.
    token = await issuer.mintAccessToken({ certificate: client, subject: 'client-a', expiresIn: 3600 });
  })();
  packed = await packAll();
  await Promise.all([installApp(), credentials]);
}, 600_000);

afterAll(async () => {
  await Promise.all([...children].map(stop));
  await issuer?.close();
  if (temp) await rm(temp, { recursive: true, force: true });
});

describe('each package tarball', () => {
  it('is what pnpm pack makes of every package under packages/, one each', async () => {
    expect((await readdir(tarballs)).sort()).toEqual(packed.map((p) => basename(p.tarball)).sort());
  });

  it('carries its README, the Apache-2.0 LICENSE, package.json and built JavaScript and types, and nothing else', async () => {
    const license = await readFile(join(root, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    for (const { manifest, unpacked } of packed) {
      const files = await filesUnder(unpacked);
      const built = (file: string) => /^dist\/[^/]+\.(js|cjs|d\.ts|d\.cts)$/.test(file);
      expect(
        files.filter((file) => !built(file)),
        manifest.name,
      ).toEqual(['LICENSE', 'README.md', 'package.json']);
      expect(
        entryFiles(manifest).filter((file) => !files.includes(file)),
        `${manifest.name}: files its package.json points at`,
      ).toEqual([]);
      expect(await readFile(join(unpacked, 'LICENSE'), 'utf8'), `${manifest.name}: LICENSE`).toBe(license);
    }
  });

  it('has no source maps, and no built file refers to one', async () => {
    for (const { manifest, unpacked } of packed) {
      const files = await filesUnder(unpacked);
      const mapped: string[] = [];
      for (const file of files.filter((f) => f.startsWith('dist/'))) {
        if (
          file.endsWith('.map') ||
          (await readFile(join(unpacked, file), 'utf8')).includes('sourceMappingURL')
        ) {
          mapped.push(file);
        }
      }
      expect(mapped, manifest.name).toEqual([]);
    }
  });

  it('depends on the other @certbound packages at the versions packed, never on workspace:', async () => {
    const versions = new Map(packed.map((p) => [p.manifest.name, p.manifest.version]));
    for (const { unpacked } of packed) {
      const manifest = await readJson<Manifest>(join(unpacked, 'package.json'));
      const internal = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
        ([name]) => name.startsWith('@certbound/'),
      );
      expect(internal, manifest.name).toEqual(internal.map(([name]) => [name, `^${versions.get(name)}`]));
      expect(JSON.stringify(manifest), manifest.name).not.toContain('workspace:');
    }
  });
});

/** Starts a program of the app and resolves with its URL once it prints its port. */
async function start(program: string, platform?: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [program, ...(platform ? [platform] : [])], {
    cwd: app,
    env: {
      ...process.env,
      CERTBOUND_ISSUER: issuer.issuer,
      CERTBOUND_AUDIENCE: issuer.audience,
      CERTBOUND_JWKS: JSON.stringify(issuer.jwks),
      TLS_CERT: pki.server.cert,
      TLS_KEY: pki.server.key,
      TLS_CA: pki.ca.cert,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(
        new Error(`${program} ${platform ?? ''} exited (${code ?? signal}) before listening:\n${stderr}`),
      ),
    ),
  );
  const firstLine = (async () => {
    for await (const line of createInterface({ input: child.stdout! })) return line;
    return '';
  })();
  const { port } = JSON.parse(await Promise.race([firstLine, exited])) as { port: number };
  return { url: `https://127.0.0.1:${port}`, child };
}

async function stop(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('an app that installed the tarballs with npm', () => {
  it('loads every package from its own node_modules, with require() and with import', async () => {
    const names = packed.map((p) => p.manifest.name);
    const script = (format: 'cjs' | 'esm') =>
      format === 'cjs'
        ? `const names = ${JSON.stringify(names)};
           for (const name of names) require(name);
           console.log(JSON.stringify(names.map((name) => require.resolve(name))));`
        : `const names = ${JSON.stringify(names)};
           for (const name of names) await import(name);
           console.log(JSON.stringify(names.map((name) => import.meta.resolve(name))));`;
    const cjs = JSON.parse(await run(process.execPath, ['-e', script('cjs')], app)) as string[];
    const esm = JSON.parse(
      await run(process.execPath, ['--input-type=module', '-e', script('esm')], app),
    ) as string[];
    const installed = (name: string) => join(app, 'node_modules', ...name.split('/'), 'dist');
    expect(cjs).toEqual(names.map((name) => join(installed(name), 'index.cjs')));
    expect(esm.map((url) => fileURLToPath(url))).toEqual(
      names.map((name) => join(installed(name), 'index.js')),
    );
  });

  it.each(PROGRAMS)(
    '$label answers the bound certificate with 200 and a request without a certificate with 401 certificate_missing',
    async ({ program, platform }) => {
      const { url, child } = await start(program, platform);
      try {
        const call = (certificate?: TestCertificate) =>
          httpsRequest(`${url}/me`, {
            ca: pki.ca.cert,
            certificate,
            headers: { authorization: `Bearer ${token}` },
          });

        const bound = await call(client);
        expect({ status: bound.status, body: bound.json }).toEqual({
          status: 200,
          body: {
            program: platform ? `${program} on ${platform}` : program,
            subject: 'client-a',
            thumbprint: client.thumbprint,
          },
        });

        const description = 'The access token is certificate-bound but no client certificate was presented';
        const missing = await call();
        expect({
          status: missing.status,
          challenge: missing.headers['www-authenticate'],
          body: missing.json,
        }).toEqual({
          status: 401,
          // DPoP is on by default, so the client is also told it may use DPoP instead (RFC 9449 §7.1).
          challenge: `Bearer realm="api", error="invalid_token", error_description="${description}", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"`,
          body: { error: 'invalid_token', error_description: description, code: 'certificate_missing' },
        });
      } finally {
        await stop(child);
      }
    },
  );

  it("runs `npx certbound thumbprint` from the CLI tarball, printing the certificate's x5t#S256", async () => {
    await writeFile(join(app, 'client.pem'), client.cert);
    const printed = await run('npx', ['--no', 'certbound', 'thumbprint', 'client.pem'], app);
    expect(printed).toBe(`${client.thumbprint}\n`);
  });
});
