// Builds the packages only when their sources changed since the last build, quietly: the build's
// output is shown only if it fails (then the process exits with the build's status). Used by
// `pnpm demo` and `pnpm example:local`, whose output is their narration, not the bundler's.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;
const packages = join(root, 'packages');

/** The newest modification time of the files under `dir` (0 when it does not exist). */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** The oldest build output of a package, or 0 when it has none. */
function built(dir) {
  try {
    return Math.min(
      ...readdirSync(join(dir, 'dist')).map((name) => statSync(join(dir, 'dist', name)).mtimeMs),
    );
  } catch {
    return 0;
  }
}

export function buildIfStale() {
  const stale = readdirSync(packages).some((name) => {
    const dir = join(packages, name);
    return newest(join(dir, 'src')) > built(dir);
  });
  if (!stale) return;
  process.stderr.write('building the packages (once, quietly)…\n');
  const build = spawnSync('pnpm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout}${build.stderr}`);
    process.exit(build.status ?? 1);
  }
}
