/** The package version, inlined at build time by tsup (`define`) from package.json. */
declare const __CERTBOUND_CLI_VERSION__: string | undefined;

export const VERSION: string =
  typeof __CERTBOUND_CLI_VERSION__ === 'string' ? __CERTBOUND_CLI_VERSION__ : '0.0.0-source';
