import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // The subpath first: '@certbound/core' would also match '@certbound/core/adapter'.
    alias: {
      '@certbound/core/adapter': fileURLToPath(new URL('./packages/core/src/adapter.ts', import.meta.url)),
      '@certbound/core': source('core'),
      '@certbound/express': source('express'),
      '@certbound/testing': source('testing'),
      '@certbound/koa': source('koa'),
      '@certbound/fastify': source('fastify'),
      '@certbound/nest': source('nest'),
      '@certbound/redis': source('redis'),
      '@certbound/client-auth': source('client-auth'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Stryker's sandboxes (copies of the tests) and its reports: `pnpm test:mutation`.
    exclude: [...configDefaults.exclude, '.stryker-tmp/**', 'reports/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
