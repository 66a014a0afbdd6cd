import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};
// `certbound --version` reads this (src/version.ts): one source of truth, package.json.
const define = { __CERTBOUND_CLI_VERSION__: JSON.stringify(version) };

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: false,
    target: 'node20',
    define,
  },
  {
    // The binary: ESM with a shebang, not bundled with the library entry's types.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: false,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    define,
  },
]);
