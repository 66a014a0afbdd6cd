import { createVerifier } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import { normalizeOptions } from '../src/options/verifier-options.js';

const base = { issuer: 'https://as.example.com', audience: 'https://api.example.com' };

describe('option validation at start-up', () => {
  it.each([
    [undefined, 'Invalid certbound options: expected an object'],
    [
      { audience: 'x' },
      'Invalid certbound option: "issuer" must be given, or "issuers" instead, but not both',
    ],
    [{ ...base, issuer: 'as.example.com' }, '"issuer" must be an absolute https URL'],
    [{ ...base, issuer: 'http://as.example.com' }, '"issuer" must be an https URL without a fragment'],
    [{ ...base, issuer: 'https://as.example.com/#x' }, '"issuer" must be an https URL without a fragment'],
    [{ ...base, issuer: 'https://as.example.com/?tenant=1' }, '"issuer" must be a URL without a query'],
    [{ issuer: base.issuer }, '"audience" must be a non-empty string or array of strings'],
    [{ ...base, audience: [] }, '"audience" must be a non-empty string or array of strings'],
    [{ ...base, audience: ['a', ''] }, '"audience" must be made of non-empty strings'],
    [
      { ...base, algorithms: ['none'] },
      '"algorithms" must be signature algorithms ("none" is never accepted)',
    ],
    [
      { ...base, algorithms: ['RS256', 'HS256'], secret: 'x'.repeat(32) },
      '"algorithms" must be either all asymmetric or all HMAC',
    ],
    [{ ...base, algorithms: ['HS256'] }, '"secret" must be a string or Uint8Array of at least 32 bytes'],
    [
      { ...base, algorithms: ['HS256'], secret: 'short' },
      '"secret" must be a string or Uint8Array of at least 32 bytes',
    ],
    [
      { ...base, secret: 'x'.repeat(32) },
      '"secret" must be used only with HS256, HS384 or HS512 "algorithms"',
    ],
    [
      { ...base, clockToleranceSeconds: -1 },
      '"clockToleranceSeconds" must be a number of seconds from 0 to 300',
    ],
    [
      { ...base, clockToleranceSeconds: 3600 },
      '"clockToleranceSeconds" must be a number of seconds from 0 to 300',
    ],
    [{ ...base, tokenFormat: 'magic' }, '"tokenFormat" must be one of "auto", "jwt", "opaque"'],
    [{ ...base, binding: 'optional' }, '"binding" must be one of "required", "if-present"'],
    [{ ...base, certificate: { from: 'socket' } }, '"certificate.from" must be "tls"'],
    [
      { ...base, jwks: { keys: [] }, jwksUri: 'https://as.example.com/jwks' },
      '"jwks" must be not combined with "jwksUri"',
    ],
    [{ ...base, jwks: [] }, '"jwks" must be a JWK Set { keys: [...] }'],
    [{ ...base, jwksUri: 'ftp://as.example.com/jwks' }, '"jwksUri" must be an https URL'],
    [
      { ...base, tls: { cert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' } },
      '"tls" must be given both "cert" and "key", or neither',
    ],
    [{ ...base, tls: { ca: 42 } }, '"tls.ca" must be a PEM string, a Buffer, or an array of them'],
    [{ ...base, realm: 'a\nb' }, '"realm" must be printable ASCII'],
    [{ ...base, timeoutMs: 0 }, '"timeoutMs" must be a positive integer'],
    [{ ...base, tokenCache: { max: 1.5 } }, '"tokenCache.max" must be a positive integer'],
    [{ ...base, requiredClaims: 'sub' }, '"requiredClaims" must be an array of claim names'],
    [{ ...base, clockTolerance: 5 }, 'Invalid certbound option: unknown option "clockTolerance"'],
    [{ ...base, algorithms: ['rs256'] }, '"algorithms" must be JWS algorithms among RS256'],
    [
      { ...base, resourceMetadata: 'https://api.example.com/x\r\nSet-Cookie: a=b' },
      '"resourceMetadata" must be an absolute https URL',
    ],
    [{ ...base, timeoutMs: 2 ** 31 }, '"timeoutMs" must be a positive integer up to 300000'],
    [{ ...base, jwksMaxAgeSeconds: 0 }, '"jwksMaxAgeSeconds" must be a positive number up to 86400'],
    [{ ...base, jwksMaxAgeSeconds: 86_401 }, '"jwksMaxAgeSeconds" must be a positive number up to 86400'],
    [{ ...base, tokenCache: { maxBytes: 1.5 } }, '"tokenCache.maxBytes" must be a positive integer'],
    [{ ...base, dpop: { required: 1 } }, '"dpop.required" must be a boolean'],
  ])('rejects %j: %s', (options, message) => {
    expect(() => createVerifier(options as never)).toThrow(TypeError);
    expect(() => createVerifier(options as never)).toThrow(message);
  });

  it('fills in the documented defaults', () => {
    const o = normalizeOptions(base);
    expect(o).toMatchObject({
      audience: ['https://api.example.com'],
      clockToleranceSeconds: 5,
      tokenFormat: 'auto',
      binding: 'required',
      certificate: { from: 'tls' },
      acceptedTyp: ['at+jwt'],
      requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
      timeoutMs: 5000,
      jwksMaxAgeSeconds: 300,
      tokenCache: { max: 10_000, maxTtlSeconds: 300, maxBytes: 32 * 1024 * 1024 },
      dpop: {
        required: false,
        algorithms: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
        proofMaxAgeSeconds: 60,
        origins: undefined,
        nonce: undefined,
        replay: { store: undefined, max: 1_000_000 },
      },
    });
    expect(o.algorithms).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    expect(o.algorithms.some((a) => a.startsWith('HS'))).toBe(false);
  });

  it('normalizes accepted typ values and allows loopback http issuers for development', () => {
    expect(normalizeOptions({ ...base, acceptedTyp: ['application/AT+JWT', 'JWT'] }).acceptedTyp).toEqual([
      'at+jwt',
      'jwt',
    ]);
    expect(normalizeOptions({ ...base, issuer: 'http://localhost:8080' }).issuer).toBe(
      'http://localhost:8080',
    );
  });
});
