/**
 * A quiet demo: `pnpm demo` (`node scripts/demo.mjs`) prints its narration and nothing from the
 * package manager or the bundler. First the real demo, as `pnpm test` leaves the repository (the
 * packages built): its whole outline, every step ✔, the timing line, exit 0. Then the build it
 * runs when the packages' sources are newer than their build, in a scratch copy of the layout
 * (the same two scripts, byte for byte; a stand-in `pnpm` on PATH that prints what tsup and pnpm
 * print): a real build here would rewrite the dist/ other suites are reading.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What pnpm and tsup print while building (the ~220 lines `pnpm demo` used to show). */
const BUILD_NOISE = /CLI Building entry|Build success|^> |^\$ |ELIFECYCLE|tsup|pnpm|ESM |CJS |DTS /m;
const BUILDING = 'building the packages (once, quietly)…\n';

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function node(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { ...options, encoding: 'utf8', timeout: 120_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

describe('node scripts/demo.mjs, the packages built', () => {
  let demo: Run;

  beforeAll(async () => {
    demo = await node(['scripts/demo.mjs'], { cwd: ROOT });
  }, 120_000);

  it('exits 0 and prints only the narration: every section, 13 steps all ✔, the timing line', () => {
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
    const lines = demo.stdout.trimEnd().split('\n');
    // The outline: every line that is neither indented nor blank.
    expect(lines.filter((line) => line !== '' && !line.startsWith(' '))).toEqual([
      'certbound demo: RFC 8705 certificate-bound and RFC 9449 DPoP-bound access tokens, end to end on loopback',
      'Set-up',
      '1. A JWT access token bound to certificate A (client authenticates with tls_client_auth)',
      '2. An opaque token bound to self-signed certificate C (self_signed_tls_client_auth), via introspection',
      '3. A DPoP-bound token (RFC 9449): the client proves its key on every request',
      expect.stringMatching(
        /^All 13 steps behaved as described \(\d+\.\d s\): a stolen bound token is useless\.$/,
      ),
    ]);
    // examples/demo/run.ts reports 13 steps: 5 for the JWT, 3 for the opaque token, 5 for DPoP.
    expect(lines.filter((line) => /^ {2}✔ /.test(line))).toHaveLength(13);
    expect(demo.stdout).not.toContain('✘');
    expect(demo.stdout).not.toMatch(BUILD_NOISE);
    expect(lines.at(-1)).toMatch(/^All 13 steps behaved as described/);
  });
});

describe('the build scripts/demo.mjs runs when the packages are stale (a scratch copy of the layout)', () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const pnpmCalls = () => readFile(join(scratch, 'pnpm-calls'), 'utf8').catch(() => '');
  const age = async (path: string, secondsAgo: number) => {
    const when = new Date(Date.now() - secondsAgo * 1000);
    await utimes(path, when, when);
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'certbound-demo-'));
    await mkdir(join(scratch, 'scripts'));
    for (const script of ['demo.mjs', 'build-if-stale.mjs']) {
      await copyFile(join(ROOT, 'scripts', script), join(scratch, 'scripts', script));
    }
    await mkdir(join(scratch, 'packages', 'core', 'src'), { recursive: true });
    await mkdir(join(scratch, 'packages', 'core', 'dist'));
    await writeFile(join(scratch, 'packages', 'core', 'src', 'index.ts'), 'export {};\n');
    await writeFile(join(scratch, 'packages', 'core', 'dist', 'index.js'), 'export {};\n');
    await mkdir(join(scratch, 'examples', 'demo'), { recursive: true });
    await writeFile(join(scratch, 'examples', 'demo', 'run.ts'), "console.log('  ✔ the narration');\n");
    // tsx, for `node --import tsx run.ts`, from the workspace.
    await symlink(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    // A stand-in pnpm: records its arguments, prints what `pnpm run build` prints, exits $BUILD_STATUS.
    await mkdir(join(scratch, 'bin'));
    await writeFile(
      join(scratch, 'bin', 'pnpm'),
      [
        '#!/bin/sh',
        `echo "$*" >> '${join(scratch, 'pnpm-calls')}'`,
        "echo '> certbound-workspace@ build /work'",
        "echo 'packages/core build: CLI Building entry: src/index.ts'",
        "echo 'packages/core build: ESM ⚡️ Build success in 41ms'",
        "echo 'packages/core build: DTS ⚡️ Build success in 2010ms' >&2",
        'exit $((BUILD_STATUS))',
        '',
      ].join('\n'),
    );
    await chmod(join(scratch, 'bin', 'pnpm'), 0o755);
    env = { ...process.env, PATH: `${join(scratch, 'bin')}:${process.env.PATH ?? ''}` };
  });

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('builds once, showing one line on stderr and none of the build output, then narrates', async () => {
    await age(join(scratch, 'packages', 'core', 'dist', 'index.js'), 60);
    await rm(join(scratch, 'pnpm-calls'), { force: true });
    const run = await node(['scripts/demo.mjs'], { cwd: scratch, env });
    expect(run).toEqual({ status: 0, stdout: '  ✔ the narration\n', stderr: BUILDING });
    expect(await pnpmCalls()).toBe('run build\n');
  });

  it('shows the build output, and exits with its status, when the build fails', async () => {
    await age(join(scratch, 'packages', 'core', 'dist', 'index.js'), 60);
    await rm(join(scratch, 'pnpm-calls'), { force: true });
    const run = await node(['scripts/demo.mjs'], { cwd: scratch, env: { ...env, BUILD_STATUS: '3' } });
    expect(run).toEqual({
      status: 3,
      stdout: '',
      stderr: [
        BUILDING,
        '> certbound-workspace@ build /work\n',
        'packages/core build: CLI Building entry: src/index.ts\n',
        'packages/core build: ESM ⚡️ Build success in 41ms\n',
        'packages/core build: DTS ⚡️ Build success in 2010ms\n',
      ].join(''),
    });
  });

  it('does not build when the build is newer than the sources', async () => {
    await age(join(scratch, 'packages', 'core', 'src', 'index.ts'), 120);
    await age(join(scratch, 'packages', 'core', 'dist', 'index.js'), 60);
    await rm(join(scratch, 'pnpm-calls'), { force: true });
    const run = await node(['scripts/demo.mjs'], { cwd: scratch, env });
    expect(run).toEqual({ status: 0, stdout: '  ✔ the narration\n', stderr: '' });
    expect(await pnpmCalls()).toBe('');
  });
});
