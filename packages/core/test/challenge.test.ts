import { describe, expect, it } from 'vitest';
import { bearerChallenge, DEFAULT_REALM } from '../src/challenge.js';

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
