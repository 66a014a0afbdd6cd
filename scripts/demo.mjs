// `pnpm demo`: builds the packages only when their sources changed since the last build (quietly:
// the output is shown only if the build fails), then runs the narrated demo.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale, root } from './build-if-stale.mjs';

buildIfStale();
const demo = spawnSync(process.execPath, ['--import', 'tsx', 'run.ts'], {
  cwd: join(root, 'examples', 'demo'),
  stdio: 'inherit',
});
process.exit(demo.status ?? 1);
