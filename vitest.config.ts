import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@certbound/core': source('core'),
      '@certbound/express': source('express'),
      '@certbound/testing': source('testing'),
      '@certbound/koa': source('koa'),
      '@certbound/fastify': source('fastify'),
      '@certbound/nest': source('nest'),
      '@certbound/redis': source('redis'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
