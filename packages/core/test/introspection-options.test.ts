import { createVerifier } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import { readIntrospection } from '../src/options/introspection-options.js';

const base = { issuer: 'https://as.example.com', audience: 'https://api.example.com' };

describe('introspection options', () => {
  it.each([
    [{ tokenFormat: 'opaque' }, '"introspection" must be configured with tokenFormat "opaque"'],
    [
      { tokenFormat: 'jwt', introspection: { clientId: 'a', clientSecret: 'b' } },
      '"introspection" must be left out',
    ],
    [{ introspection: { clientSecret: 'b' } }, '"introspection.clientId" must be a non-empty string'],
    [{ introspection: { clientId: 'a' } }, '"introspection.clientSecret" must be a non-empty string'],
    [
      { introspection: { clientId: 'a', clientAuthMethod: 'tls_client_auth' } },
      '"tls" must be given "cert" and "key"',
    ],
    [
      { introspection: { clientId: 'a', clientAuthMethod: 'private_key_jwt' } },
      '"introspection.privateKey" must be',
    ],
    [
      {
        introspection: {
          clientId: 'a',
          clientAuthMethod: 'private_key_jwt',
          // Only a PEM header (spelled in two parts: no key material is kept in the repository).
          privateKey: `-----BEGIN ${'PRIVATE'} KEY-----`,
        },
      },
      '"introspection.signingAlg" must be an asymmetric JWS algorithm',
    ],
    [
      { introspection: { clientId: 'a', clientAuthMethod: 'magic' } },
      '"introspection.clientAuthMethod" must be one of',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', cache: { store: {} } } },
      '"introspection.cache.store" must be a CacheStore',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', cache: { negativeTtlSeconds: 0 } } },
      '"introspection.cache.negativeTtlSeconds" must be a positive number',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', endpoint: 'http://as.example.com/i' } },
      '"introspection.endpoint" must be an https URL',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', maxConcurrentCalls: 0 } },
      '"introspection.maxConcurrentCalls" must be a positive integer up to 100000',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', maxConcurrentCalls: 100_001 } },
      '"introspection.maxConcurrentCalls" must be a positive integer up to 100000',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', cache: { maxBytes: -1 } } },
      '"introspection.cache.maxBytes" must be a positive integer',
    ],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', timeout: 5 } },
      'unknown option "introspection.timeout"',
    ],
  ])('rejects %j', (options, message) => {
    expect(() => createVerifier({ ...base, ...options } as never)).toThrow(message);
  });
});

describe('readIntrospection', () => {
  const verifier = { timeoutMs: 5000, hasClientCertificate: false };

  it('fills in the documented defaults', () => {
    expect(readIntrospection({ clientId: 'a', clientSecret: 'b' }, verifier)).toEqual({
      endpoint: undefined,
      clientId: 'a',
      clientSecret: 'b',
      clientAuthMethod: 'client_secret_basic',
      privateKey: undefined,
      signingAlg: undefined,
      timeoutMs: 5000,
      maxConcurrentCalls: 64,
      cache: {
        max: 10_000,
        maxTtlSeconds: 60,
        negativeTtlSeconds: 10,
        maxBytes: 32 * 1024 * 1024,
        store: undefined,
      },
    });
  });

  it('takes its own timeoutMs over the verifier’s, and turns the cache off with false', () => {
    expect(
      readIntrospection({ clientId: 'a', clientSecret: 'b', timeoutMs: 250, cache: false }, verifier),
    ).toMatchObject({ timeoutMs: 250, cache: false });
  });

  it('drops a private key that the client authentication method does not use', () => {
    expect(
      readIntrospection({ clientId: 'a', clientSecret: 'b', privateKey: 'unused' }, verifier).privateKey,
    ).toBeUndefined();
  });
});
