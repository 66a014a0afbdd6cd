import { createTestIssuer, type TestIssuer } from '@certbound/testing';
import { type CryptoKey, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import { type JwtRules, jwtRules } from '../src/jwt/jwt-rules.js';
import { localKeys, secretKey } from '../src/jwt/signing-keys.js';
import { SIGNATURE_MISMATCH, validateJwt } from '../src/jwt/validate-jwt.js';
import { rfc7638, testKey } from './support/keys.js';
import { asyncOutcomeOf, failure } from './support/outcomes.js';

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
    expect(validated.confirmation).toEqual({
      x5t: Buffer.from('A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0', 'ascii'),
      jkt: undefined,
    });
    expect(validated.dpopTokenType).toBe(false);
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

/** RFC 9068 claims for the test issuer, signed with `key` under `header`. */
async function tokenSignedWith(
  privateKey: CryptoKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown> = {},
  crit?: Record<string, boolean>,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: 's',
    client_id: 'c',
    jti: 'j',
    iat: now,
    exp: now + 60,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
    .sign(privateKey, crit === undefined ? undefined : { crit });
}

describe('validateJwt and the keys it tries', () => {
  it('records which key verified the token: its RFC 7638 thumbprint', async () => {
    for (const alg of ['ES256', 'RS256'] as const) {
      const token = await issuer.mintAccessToken({ alg });
      const jwk = issuer.jwks.keys.find((key) => key.alg === alg)!;
      expect((await validateJwt(token, localKeys(issuer.jwks), rules)).keyId).toBe(rfc7638(jwk));
    }
  });

  it('refuses a token no candidate key verifies as token_signature_invalid, caused by SIGNATURE_MISMATCH', async () => {
    const attacker = await testKey('ES256');
    const forged = await issuer.mintAccessToken({ signingKey: attacker.privateKey });
    const error = await failure(validateJwt(forged, localKeys(issuer.jwks), rules));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_token', code: 'token_signature_invalid' });
    expect(error.cause).toBe(SIGNATURE_MISMATCH);
  });

  it('refuses an unknown kid and an algorithm not allowed without SIGNATURE_MISMATCH (they are not lasting)', async () => {
    const unknownKid = await issuer.mintAccessToken({ header: { kid: 'no-such-key' } });
    const unknown = await failure(validateJwt(unknownKid, localKeys(issuer.jwks), rules));
    expect(unknown).toMatchObject({ status: 401, code: 'token_signature_invalid' });
    expect((unknown.cause as Error).message).toBe('ERR_JWKS_NO_MATCHING_KEY');

    const es256Only = rulesWith({ algorithms: ['ES256'] });
    const rsa = await issuer.mintAccessToken({ alg: 'RS256' });
    const notAllowed = await failure(validateJwt(rsa, localKeys(issuer.jwks), es256Only));
    expect(notAllowed).toMatchObject({ status: 401, code: 'token_signature_invalid' });
    expect((notAllowed.cause as Error).message).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
  });

  it('tries at most four keys for a token without kid: a signer fifth in the set is never reached', async () => {
    const keys = await Promise.all(Array.from({ length: 6 }, () => testKey('ES256')));
    const jwks = { keys: keys.map((key) => key.jwk) };
    const fourth = await tokenSignedWith(keys[3]!.privateKey, { alg: 'ES256' });
    expect((await validateJwt(fourth, localKeys(jwks), rules)).keyId).toBe(rfc7638(keys[3]!.jwk));
    const fifth = await tokenSignedWith(keys[4]!.privateKey, { alg: 'ES256' });
    const error = await failure(validateJwt(fifth, localKeys(jwks), rules));
    expect(error).toMatchObject({ status: 401, code: 'token_signature_invalid' });
    expect(error.cause).toBe(SIGNATURE_MISMATCH);
  });

  it('keeps only jose’s error code as the cause, never its message (which can quote the token)', async () => {
    const key = await testKey('ES256', 'k');
    const jwks = { keys: [key.jwk] };
    const cases: [string, string, string][] = [
      [
        await tokenSignedWith(key.privateKey, { alg: 'ES256', kid: 'k' }, { exp: 1 }),
        'token_expired',
        'ERR_JWT_EXPIRED',
      ],
      [
        await tokenSignedWith(
          key.privateKey,
          { alg: 'ES256', kid: 'k' },
          { iss: 'https://evil.example/<x>' },
        ),
        'token_issuer_mismatch',
        'ERR_JWT_CLAIM_VALIDATION_FAILED (claim "iss": check_failed)',
      ],
      [
        await tokenSignedWith(
          key.privateKey,
          { alg: 'ES256', kid: 'k', crit: ['x-evil<script>'], 'x-evil<script>': 1 },
          {},
          { 'x-evil<script>': true },
        ),
        'token_malformed',
        'ERR_JOSE_NOT_SUPPORTED',
      ],
    ];
    for (const [token, code, cause] of cases) {
      const error = await failure(validateJwt(token, localKeys(jwks), rules));
      expect({ code: error.code, cause: (error.cause as Error).message }).toEqual({ code, cause });
      expect(error.stack).toBe(`InvalidTokenError [${code}]: ${error.description}`);
    }
  });
});
