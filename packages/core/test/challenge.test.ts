import { describe, expect, it } from 'vitest';
import { acceptedSchemes, authenticateHeader, bearerChallenge, DEFAULT_REALM } from '../src/challenge.js';

describe('bearerChallenge', () => {
  it('always carries an auth-param and escapes quoted strings', () => {
    expect(bearerChallenge({})).toBe('Bearer realm="api"');
    expect(bearerChallenge({ realm: 'a"b\\c' })).toBe('Bearer realm="a\\"b\\\\c"');
    expect(
      bearerChallenge({ resourceMetadata: 'https://api.example.com/.well-known/oauth-protected-resource' }),
    ).toBe('Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"');
    expect(bearerChallenge({ realm: 'r', resourceMetadata: 'https://m' }, 'invalid_token', 'd')).toBe(
      'Bearer realm="r", resource_metadata="https://m", error="invalid_token", error_description="d"',
    );
  });
});

describe('bearerChallenge escaping', () => {
  it('escapes " and \\ in error_description and scope', () => {
    expect(bearerChallenge({}, 'invalid_token', 'a "b" \\c')).toBe(
      String.raw`Bearer realm="api", error="invalid_token", error_description="a \"b\" \\c"`,
    );
    expect(bearerChallenge({ realm: 'r' }, 'insufficient_scope', undefined, ['a"b', 'c\\d'])).toBe(
      String.raw`Bearer realm="r", error="insufficient_scope", scope="a\"b c\\d"`,
    );
  });

  it('uses the default realm only when no resource_metadata stands in for it', () => {
    expect(DEFAULT_REALM).toBe('api');
    expect(bearerChallenge({}, 'invalid_token')).toBe('Bearer realm="api", error="invalid_token"');
    expect(bearerChallenge({}, undefined, 'ignored without an error')).toBe('Bearer realm="api"');
    expect(bearerChallenge({ realm: 'r' }, 'insufficient_scope', 'd', [])).toBe(
      'Bearer realm="r", error="insufficient_scope", error_description="d"',
    );
  });
});

const ALGS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'];
/** The challenge parameters of a verifier with the default options: both schemes. */
const BOTH = { dpopAlgorithms: ALGS };

describe('acceptedSchemes', () => {
  it('lists Bearer, then DPoP when it is on; DPoP alone when Bearer is not accepted', () => {
    expect(acceptedSchemes({})).toEqual(['Bearer']);
    expect(acceptedSchemes({ realm: 'r', bearer: true })).toEqual(['Bearer']);
    expect(acceptedSchemes(BOTH)).toEqual(['Bearer', 'DPoP']);
    expect(acceptedSchemes({ ...BOTH, bearer: false })).toEqual(['DPoP']);
  });

  it('never lists no scheme at all', () => {
    expect(acceptedSchemes({ bearer: false })).toEqual(['Bearer']);
  });
});

describe('authenticateHeader', () => {
  it('offers every accepted scheme without error parameters when there is no error', () => {
    expect(authenticateHeader({})).toBe('Bearer realm="api"');
    expect(authenticateHeader(BOTH)).toBe(
      'Bearer realm="api", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
    );
    expect(authenticateHeader({ ...BOTH, bearer: false })).toBe(
      'DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
    );
    expect(authenticateHeader({ realm: 'bank', dpopAlgorithms: ['ES256'] })).toBe(
      'Bearer realm="bank", DPoP realm="bank", algs="ES256"',
    );
  });

  it('puts the challenge carrying the error first, and only that one has error parameters', () => {
    expect(
      authenticateHeader(BOTH, {
        scheme: 'Bearer',
        error: 'invalid_token',
        description: 'The access token expired',
      }),
    ).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token expired", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
    );
    expect(
      authenticateHeader(BOTH, {
        scheme: 'DPoP',
        error: 'invalid_dpop_proof',
        description: 'The DPoP proof is invalid',
      }),
    ).toBe(
      'DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid", algs="ES256 ES384 EdDSA PS256 RS256", Bearer realm="api"',
    );
  });

  it('orders each challenge’s parameters: realm, resource_metadata, error, error_description, scope, algs', () => {
    expect(
      authenticateHeader(
        {
          realm: 'r',
          resourceMetadata: 'https://api.example.com/.well-known/oauth-protected-resource',
          dpopAlgorithms: ['ES256'],
        },
        { scheme: 'DPoP', error: 'insufficient_scope', description: 'd', scopes: ['a', 'b'] },
      ),
    ).toBe(
      'DPoP realm="r", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource", error="insufficient_scope", error_description="d", scope="a b", algs="ES256", Bearer realm="r", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"',
    );
  });

  it('lets resource_metadata stand in for the default realm in both challenges', () => {
    expect(
      authenticateHeader({ resourceMetadata: 'https://m.example.com/prm', dpopAlgorithms: ['EdDSA'] }),
    ).toBe(
      'Bearer resource_metadata="https://m.example.com/prm", DPoP resource_metadata="https://m.example.com/prm", algs="EdDSA"',
    );
  });

  it('leaves error parameters out when there is no error code (no credentials), scope aside', () => {
    expect(authenticateHeader(BOTH, { scheme: 'DPoP', description: 'ignored without an error' })).toBe(
      'DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256", Bearer realm="api"',
    );
    expect(authenticateHeader(BOTH, { scheme: 'Bearer', error: 'invalid_token' })).toBe(
      'Bearer realm="api", error="invalid_token", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
    );
  });

  it('escapes " and \\ in every quoted value of both challenges', () => {
    expect(
      authenticateHeader(
        { realm: 'a"b\\c', dpopAlgorithms: ['E"S', 'x\\y'] },
        {
          scheme: 'DPoP',
          error: 'insufficient_scope',
          description: 'say "hi" \\o/',
          scopes: ['s"1', 's\\2'],
        },
      ),
    ).toBe(
      String.raw`DPoP realm="a\"b\\c", error="insufficient_scope", error_description="say \"hi\" \\o/", scope="s\"1 s\\2", algs="E\"S x\\y", Bearer realm="a\"b\\c"`,
    );
  });
});
