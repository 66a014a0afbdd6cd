import { createVerifier } from '@certbound/core';
import { createDpopProof, createTestIssuer, createTestPki } from '@certbound/testing';
import { describe, expect, it } from 'vitest';
import type { AuthInfo } from '../src/auth-info.js';
import { CertboundConfigurationError, InsufficientScopeError } from '../src/errors.js';
import { assertScopeNames, hasScopes, requireScopes } from '../src/scopes.js';
import { testKey } from './support/keys.js';
import { rejectionOf, thrownBy } from './support/outcomes.js';

const auth = { scopes: ['read', 'write'] } as AuthInfo;

describe('scopes', () => {
  it('hasScopes needs every scope', () => {
    expect(hasScopes(auth, 'read')).toBe(true);
    expect(hasScopes(auth, 'read', 'write')).toBe(true);
    expect(hasScopes(auth, 'read', 'admin')).toBe(false);
    expect(hasScopes(undefined, 'read')).toBe(false);
  });

  it('requireScopes throws 403 listing every required scope, or a 500 configuration error without authentication', () => {
    expect(() => requireScopes(auth, 'read')).not.toThrow();
    expect(() => requireScopes(auth, 'admin', 'read')).toThrow(InsufficientScopeError);
    const forbidden = rejectionOf(() => requireScopes(auth, 'admin', 'read'));
    expect(forbidden).toBeInstanceOf(InsufficientScopeError);
    expect(forbidden).toMatchObject({
      status: 403,
      error: 'insufficient_scope',
      code: 'insufficient_scope',
      scopes: ['admin', 'read'],
    });
    expect(forbidden.headers).toEqual({
      'www-authenticate':
        'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="admin read"',
    });
    expect(() => requireScopes(undefined, 'read')).toThrow(
      new CertboundConfigurationError(
        'requireScopes() found no authenticated request: mount certbound() before it, and do not use it on routes certbound() skips',
      ),
    );
    expect(thrownBy(() => requireScopes(undefined, 'read'))).toMatchObject({
      status: 500,
      expose: false,
      code: 'configuration_error',
    });
  });

  it('carries the realm of the verifier that authenticated the request', async () => {
    const pki = await createTestPki();
    const issuer = await createTestIssuer({ pki });
    const client = await pki.issueClient();
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: issuer.jwks,
      realm: 'vault',
    });
    try {
      const token = await issuer.mintAccessToken({ certificate: client, scope: 'read' });
      const verified = await verifier.verify({ authorization: `Bearer ${token}`, certificate: client.der });
      expect(() => requireScopes(verified, 'write')).toThrow(
        expect.objectContaining({
          status: 403,
          headers: {
            'www-authenticate':
              'Bearer realm="vault", error="insufficient_scope", error_description="The access token lacks the required scope", scope="write", DPoP realm="vault", algs="ES256 ES384 EdDSA PS256 RS256"',
          },
        }),
      );
    } finally {
      await verifier.close();
      await issuer.close();
    }
  });

  it('puts insufficient_scope on the DPoP challenge for a request made with the DPoP scheme (RFC 9449 §7.1)', async () => {
    const issuer = await createTestIssuer();
    const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks });
    try {
      const key = await testKey('ES256');
      const token = await issuer.mintAccessToken({ dpopKey: key, scope: 'read' });
      const url = 'https://api.example.com/accounts';
      const dpop = await createDpopProof({ key, method: 'GET', url, accessToken: token });
      const verified = await verifier.verify({ authorization: `DPoP ${token}`, dpop, method: 'GET', url });
      expect(verified.scheme).toBe('DPoP');
      const forbidden = rejectionOf(() => requireScopes(verified, 'write'));
      expect(forbidden).toMatchObject({
        status: 403,
        error: 'insufficient_scope',
        code: 'insufficient_scope',
      });
      expect(forbidden.headers).toEqual({
        'www-authenticate':
          'DPoP realm="api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="write", algs="ES256 ES384 EdDSA PS256 RS256", Bearer realm="api"',
      });
    } finally {
      await verifier.close();
      await issuer.close();
    }
  });

  it('validates scope names given by the application', () => {
    expect(() => assertScopeNames(['read', 'payments:write'])).not.toThrow();
    expect(() => assertScopeNames([])).toThrow(TypeError);
    expect(() => assertScopeNames(['a b'])).toThrow(TypeError);
    expect(() => assertScopeNames(['a"b'])).toThrow(TypeError);
    expect(() => assertScopeNames([42])).toThrow(TypeError);
    expect(() => assertScopeNames([])).toThrow(
      new TypeError('requireScopes: at least one scope is required'),
    );
    expect(() => assertScopeNames(['a\\b'], 'scopes')).toThrow(
      new TypeError('scopes: "a\\\\b" is not a valid scope (RFC 6749 §3.3)'),
    );
  });
});
