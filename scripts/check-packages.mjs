// Checks every published package: publint (package.json/exports), arethetypeswrong (types for
// ESM, CommonJS and bundlers), and that the built CommonJS and ESM entries load in plain Node.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
let failed = false;

for (const dir of readdirSync(packagesDir)) {
  const cwd = join(packagesDir, dir);
  const { name } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  const run = (label, command, args, options = {}) => {
    try {
      execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...options });
      console.log(`ok   ${name}: ${label}`);
    } catch (error) {
      failed = true;
      console.error(`FAIL ${name}: ${label}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  };
  run('publint', 'npx', ['--no-install', 'publint', '--strict', '.']);
  run('arethetypeswrong', 'npx', ['--no-install', 'attw', '--pack', '.', '--format', 'table-flipped']);
  run('require() from CommonJS', process.execPath, ['-e', `require(${JSON.stringify(name)})`]);
  run('import from ESM', process.execPath, [
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(name)})`,
  ]);
}

if (failed) process.exit(1);
