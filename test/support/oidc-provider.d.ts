// oidc-provider ships no type declarations; test/support/authorization-server.ts types what it uses.
declare module 'oidc-provider';
