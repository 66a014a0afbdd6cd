import { createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki } from '@certbound/testing';
import { describe, expect, it } from 'vitest';
import type { AuthInfo } from '../src/auth-info.js';
import { InsufficientScopeError, InvalidTokenError } from '../src/errors.js';
import { assertScopeNames, hasScopes, requireScopes } from '../src/scopes.js';

const auth = { scopes: ['read', 'write'] } as AuthInfo;

describe('scopes', () => {
  it('hasScopes needs every scope', () => {
    expect(hasScopes(auth, 'read')).toBe(true);
    expect(hasScopes(auth, 'read', 'write')).toBe(true);
    expect(hasScopes(auth, 'read', 'admin')).toBe(false);
    expect(hasScopes(undefined, 'read')).toBe(false);
  });

  it('requireScopes throws 403 listing every required scope, or 401 without authentication', () => {
    expect(() => requireScopes(auth, 'read')).not.toThrow();
    expect(() => requireScopes(auth, 'admin', 'read')).toThrow(InsufficientScopeError);
    try {
      requireScopes(auth, 'admin', 'read');
    } catch (error) {
      expect((error as InsufficientScopeError).headers['www-authenticate']).toContain('scope="admin read"');
    }
    expect(() => requireScopes(undefined, 'read')).toThrow(InvalidTokenError);
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
              'Bearer realm="vault", error="insufficient_scope", error_description="The access token lacks the required scope", scope="write"',
          },
        }),
      );
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
  });
});
