import { createTestIssuer, type TestIssuer } from '@certbound/testing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwtRules, jwtRules } from '../src/jwt/jwt-rules.js';
import { localKeys, secretKey } from '../src/jwt/signing-keys.js';
import { validateJwt } from '../src/jwt/validate-jwt.js';
import { asyncOutcomeOf } from './support/outcomes.js';

let issuer: TestIssuer;
let rules: JwtRules;

beforeAll(async () => {
  issuer = await createTestIssuer();
  rules = rulesWith({});
});

function rulesWith(overrides: Partial<Parameters<typeof jwtRules>[0]>): JwtRules {
  return jwtRules({
    issuer: issuer.issuer,
    audience: [issuer.audience],
    algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'],
    acceptedTyp: ['at+jwt'],
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
    clockToleranceSeconds: 5,
    ...overrides,
  });
}

afterAll(() => issuer.close());

const codeOf = asyncOutcomeOf;

describe('validateJwt', () => {
  it('returns the claims, subject, client, scopes, times and confirmation of a good token', async () => {
    const token = await issuer.mintAccessToken({
      certificate: { thumbprint: 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0' },
      scope: 'read',
    });
    const validated = await validateJwt(token, localKeys(issuer.jwks), rules);
    expect(validated).toMatchObject({
      format: 'jwt',
      subject: 'client-a',
      clientId: 'client-a',
      scopes: ['read'],
    });
    expect(validated.confirmation?.toString()).toBe('A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0');
    expect(Object.isFrozen(validated.claims)).toBe(true);
  });

  it.each([
    ['RS256', 'accepted'],
    ['PS256', 'accepted'],
    ['EdDSA', 'accepted'],
  ] as const)('validates %s with the issuer keys', async (alg, expected) => {
    const token = await issuer.mintAccessToken({ alg });
    expect(await codeOf(validateJwt(token, localKeys(issuer.jwks), rules))).toBe(expected);
  });

  it('accepts typ "JWT" only when configured', async () => {
    const token = await issuer.mintAccessToken({ header: { typ: 'JWT' } });
    expect(await codeOf(validateJwt(token, localKeys(issuer.jwks), rules))).toBe('token_type_invalid');
    expect(
      await codeOf(validateJwt(token, localKeys(issuer.jwks), rulesWith({ acceptedTyp: ['at+jwt', 'jwt'] }))),
    ).toBe('accepted');
  });

  it('checks the configured required claims', async () => {
    const token = await issuer.mintAccessToken({ claims: { jti: undefined, acr: undefined } });
    expect(await codeOf(validateJwt(token, localKeys(issuer.jwks), rules))).toBe('token_claims_missing');
    expect(
      await codeOf(validateJwt(token, localKeys(issuer.jwks), rulesWith({ requiredClaims: ['iss'] }))),
    ).toBe('accepted');
    expect(
      await codeOf(
        validateJwt(token, localKeys(issuer.jwks), {
          ...rules,
          requiredClaims: [...rules.requiredClaims, 'acr'],
        }),
      ),
    ).toBe('token_claims_missing');
  });

  it('verifies HS256 with a configured secret only', async () => {
    const secret = new TextEncoder().encode('s'.repeat(32));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      iss: issuer.issuer,
      aud: issuer.audience,
      sub: 's',
      client_id: 'c',
      jti: 'j',
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(secret);
    const hsRules = rulesWith({ algorithms: ['HS256'] });
    expect(await codeOf(validateJwt(token, secretKey(secret), hsRules))).toBe('accepted');
    expect(
      await codeOf(validateJwt(token, secretKey(new TextEncoder().encode('t'.repeat(32))), hsRules)),
    ).toBe('token_signature_invalid');
    expect(await codeOf(validateJwt(token, localKeys(issuer.jwks), rules))).toBe('token_signature_invalid');
  });
});
