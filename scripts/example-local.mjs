// `pnpm example:local <express|koa|fastify|nest> [--port <port>]`: one of the example APIs against
// a local authorization server, with the curl commands to try it (examples/local/run.ts). Builds
// the packages first if their sources changed (quietly), as `pnpm demo` does.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale, root } from './build-if-stale.mjs';

const EXAMPLES = ['express', 'koa', 'fastify', 'nest'];
const [name, ...options] = process.argv.slice(2);
const example = name?.replace(/-api$/, '');
if (!EXAMPLES.includes(example)) {
  process.stderr.write(
    `usage: pnpm example:local <${EXAMPLES.join('|')}> [--port <port>]\n` +
      (name ? `no example named "${name}"\n` : ''),
  );
  process.exit(2);
}

buildIfStale();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', join(root, 'examples', 'local', 'run.ts'), example, ...options],
  { stdio: 'inherit' },
);
// Ctrl-C reaches the whole process group: run.ts stops its servers and exits; wait for it.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
