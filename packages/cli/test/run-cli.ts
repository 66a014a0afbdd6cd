/**
 * Runs the BUILT `certbound` binary (dist/cli.js) as a child process, rebuilding it first when a
 * source file is newer than the build, and collects its exit code and output.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../..', import.meta.url));
const packageDir = join(root, 'packages', 'cli');
const binary = join(packageDir, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return Math.min(statSync(binary).mtimeMs, statSync(join(packageDir, 'dist', 'index.js')).mtimeMs);
  } catch {
    return -1;
  }
}

/** Builds the package (`pnpm --filter @certbound/cli build`) unless dist is newer than src. */
export function ensureBuilt(): void {
  const sources = Math.max(
    newestSource(join(packageDir, 'src')),
    statSync(join(packageDir, 'package.json')).mtimeMs,
  );
  if (builtAt() >= sources) return;
  execFileSync('pnpm', ['--filter', '@certbound/cli', 'build'], { cwd: root, stdio: 'pipe' });
}

/** `node packages/cli/dist/cli.js ...args`, with `stdin` piped in (or closed empty). */
export function certbound(args: string[], stdin: string | Buffer = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binary, ...args], { cwd: root, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
