import { describe, expect, it } from 'vitest';
import { isJwtShaped, jwtRules, normalizeTyp } from '../src/jwt/jwt-rules.js';

describe('normalizeTyp', () => {
  it('compares typ as a media type', () => {
    expect(normalizeTyp('application/AT+JWT')).toBe('at+jwt');
    expect(normalizeTyp('at+jwt')).toBe('at+jwt');
    expect(normalizeTyp('JWT')).toBe('jwt');
  });
});

describe('jwtRules', () => {
  const options = {
    issuer: 'https://as.example.com',
    audience: ['https://api.example.com'],
    algorithms: ['ES256'],
    acceptedTyp: ['at+jwt'],
    requiredClaims: ['iss', 'exp'],
    clockToleranceSeconds: 5,
  };

  it('builds jose’s verify options once', () => {
    expect(jwtRules(options)).toEqual({
      acceptedTyp: ['at+jwt'],
      requiredClaims: ['iss', 'exp'],
      verifyOptions: {
        algorithms: ['ES256'],
        issuer: 'https://as.example.com',
        audience: ['https://api.example.com'],
        clockTolerance: 5,
        requiredClaims: ['iss', 'exp'],
      },
    });
  });

  it('always requires exp, even when the configured claims leave it out', () => {
    const rules = jwtRules({ ...options, requiredClaims: ['iss'] });
    expect(rules.requiredClaims).toEqual(['iss', 'exp']);
    expect(rules.verifyOptions.requiredClaims).toEqual(['iss', 'exp']);
    expect(jwtRules({ ...options, requiredClaims: [] }).requiredClaims).toEqual(['exp']);
  });
});

describe('isJwtShaped', () => {
  it.each([
    ['three base64url segments', 'eyJh.eyJi.c2ln', true],
    ['an empty signature segment (refused later, by the algorithm rules)', 'eyJh.eyJi.', true],
    ['two segments', 'eyJh.eyJi', false],
    ['four segments (a JWE has five)', 'a.b.c.d', false],
    ['padding', 'eyJh.eyJi.c2ln=', false],
    ['an opaque token', 'mF_9.B5f-4.1JqM x', false],
  ])('%s: %s → %s', (_name, token, expected) => {
    expect(isJwtShaped(token)).toBe(expected);
  });
});
