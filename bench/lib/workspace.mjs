// Loads a certbound package from this workspace's packages/<name>/dist (built by `pnpm build`)
// through its package.json "exports", as `import '@certbound/<name>'` would. The bench package
// declares only the packages the original Express harness used; loading the other adapters this
// way keeps bench/package.json and the lockfile unchanged. Their peer frameworks (koa, fastify,
// @nestjs/*) resolve from the workspace root's node_modules, the same copies the adapters use.
import { readFileSync } from 'node:fs';

const cache = new Map();

export function workspacePackage(name) {
  let loading = cache.get(name);
  if (!loading) {
    const dir = new URL(`../../packages/${name}/`, import.meta.url);
    const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
    const entry = manifest.exports?.['.']?.import?.default;
    if (typeof entry !== 'string') throw new Error(`packages/${name}: no ESM entry in "exports"`);
    loading = import(new URL(entry, dir).href);
    cache.set(name, loading);
  }
  return loading;
}
