import { describe, expect, it } from 'vitest';
import {
  CertboundConfigurationError,
  CertboundError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidRequestError,
  InvalidTokenError,
  ServiceUnavailableError,
} from '../src/errors.js';

describe('errors', () => {
  it('carry status, statusCode, error, code, description, expose and headers', () => {
    const error = new InvalidTokenError('token_expired');
    expect(error).toBeInstanceOf(CertboundError);
    expect(error).toMatchObject({
      status: 401,
      statusCode: 401,
      error: 'invalid_token',
      code: 'token_expired',
      description: 'The access token expired',
      message: 'The access token expired',
      expose: true,
      headers: {
        'www-authenticate':
          'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
      },
    });
  });

  it('leave error information out when no credentials were sent (RFC 6750 §3.1)', () => {
    const error = new InvalidTokenError('credentials_missing').withChallenge({ realm: 'bank' });
    expect(error).toMatchObject({ status: 401, error: undefined });
    expect(error.headers['www-authenticate']).toBe('Bearer realm="bank"');
  });

  it('answer 400 invalid_request and 403 insufficient_scope with scope', () => {
    expect(new InvalidRequestError().headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="The Authorization header is malformed"',
    );
    const forbidden = new InsufficientScopeError(['read', 'write']).withChallenge({ realm: 'bank' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['www-authenticate']).toBe(
      'Bearer realm="bank", error="insufficient_scope", error_description="The access token lacks the required scope", scope="read write"',
    );
  });

  it('escape a description holding " and \\ in WWW-Authenticate', () => {
    const error = new InvalidTokenError('token_malformed', { description: 'A "quoted" \\ backslash' });
    expect(error.description).toBe('A "quoted" \\ backslash');
    expect(error.headers['www-authenticate']).toBe(
      String.raw`Bearer realm="api", error="invalid_token", error_description="A \"quoted\" \\ backslash"`,
    );
    expect(error.withChallenge({ realm: 'bank' }).headers['www-authenticate']).toBe(
      String.raw`Bearer realm="bank", error="invalid_token", error_description="A \"quoted\" \\ backslash"`,
    );
    expect(error.toJSON()).toEqual({
      error: 'invalid_token',
      error_description: 'A "quoted" \\ backslash',
      code: 'token_malformed',
    });
  });

  it('escape a description holding " and \\ in a 403 challenge too', () => {
    const error = new CertboundError(403, 'insufficient_scope', 'insufficient_scope', {
      description: 'needs "admin\\root"',
      scopes: ['admin'],
    });
    expect(error.headers['www-authenticate']).toBe(
      String.raw`Bearer realm="api", error="insufficient_scope", error_description="needs \"admin\\root\"", scope="admin"`,
    );
  });

  it('answer 503 with Retry-After and no challenge when the authorization server is unavailable', () => {
    const error = new ServiceUnavailableError().withChallenge({ realm: 'bank' });
    expect(error).toMatchObject({ status: 503, error: undefined, code: 'authorization_server_unavailable' });
    expect(error.headers).toEqual({ 'retry-after': '5' });
  });

  it('say why a 503 happened: the network unless told otherwise', () => {
    expect(new ServiceUnavailableError().reason).toBe('network');
    expect(new ServiceUnavailableError({ reason: 'timeout' }).reason).toBe('timeout');
  });

  it('keep a cause only when one is given', () => {
    expect('cause' in new InvalidTokenError('token_expired')).toBe(false);
    const cause = new Error('signature');
    expect(new InvalidTokenError('token_signature_invalid', { cause }).cause).toBe(cause);
  });

  it('are named after their class', () => {
    expect(new InsufficientUserAuthenticationError({ acr: ['mfa'] }).name).toBe(
      'InsufficientUserAuthenticationError',
    );
    expect(new CertboundConfigurationError('wiring').name).toBe('CertboundConfigurationError');
  });
});

describe('InsufficientUserAuthenticationError (RFC 9470 §3)', () => {
  const challengeOf = (error: CertboundError) => error.headers['www-authenticate'];

  it('answers 401 insufficient_user_authentication naming acr_values, max_age or both', () => {
    const both = new InsufficientUserAuthenticationError({ acr: ['mfa', 'phr'], maxAgeSeconds: 300 });
    expect(both).toMatchObject({
      status: 401,
      error: 'insufficient_user_authentication',
      code: 'insufficient_user_authentication',
    });
    expect(challengeOf(both)).toBe(
      `Bearer realm="api", error="insufficient_user_authentication", error_description="${both.description}", acr_values="mfa phr", max_age="300"`,
    );
    expect(challengeOf(new InsufficientUserAuthenticationError({ acr: ['mfa'] }))).toMatch(
      /, acr_values="mfa"$/,
    );
    expect(challengeOf(new InsufficientUserAuthenticationError({ maxAgeSeconds: 0 }))).toMatch(
      /error_description="[^"]+", max_age="0"$/,
    );
  });
});

const ALGS = 'algs="ES256 ES384 EdDSA PS256 RS256"';
const BOTH = { dpopAlgorithms: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] };

describe('DPoP errors (RFC 9449 §7.1, §9)', () => {
  it.each([
    ['dpop_proof_missing', 'invalid_dpop_proof', 'A DPoP proof is required'],
    ['dpop_proof_invalid', 'invalid_dpop_proof', 'The DPoP proof is invalid'],
    ['dpop_proof_replayed', 'invalid_dpop_proof', 'The DPoP proof was already used'],
    [
      'dpop_nonce_required',
      'use_dpop_nonce',
      'The DPoP proof must carry the nonce the resource server provided',
    ],
    ['dpop_key_mismatch', 'invalid_token', 'The access token is not bound to the DPoP proof key'],
    [
      'dpop_scheme_required',
      'invalid_token',
      'The access token is DPoP-bound and must be sent with the DPoP scheme',
    ],
  ] as const)('%s is a 401 %s', (code, error, description) => {
    const refusal = new InvalidTokenError(code).withChallenge(BOTH, 'DPoP');
    expect(refusal).toMatchObject({ status: 401, statusCode: 401, error, code, description, scheme: 'DPoP' });
    expect(refusal.headers).toEqual({
      'www-authenticate': `DPoP realm="api", error="${error}", error_description="${description}", ${ALGS}, Bearer realm="api"`,
    });
    expect(refusal.toJSON()).toEqual({ error, error_description: description, code });
  });

  it('withChallenge puts the error on the scheme the request used', () => {
    const expired = () => new InvalidTokenError('token_expired');
    expect(expired().withChallenge(BOTH, 'Bearer').headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="The access token expired", DPoP realm="api", ${ALGS}`,
    );
    expect(expired().withChallenge(BOTH, 'DPoP').headers['www-authenticate']).toBe(
      `DPoP realm="api", error="invalid_token", error_description="The access token expired", ${ALGS}, Bearer realm="api"`,
    );
    // A scheme given once is kept by later calls that give none.
    const dpop = expired()
      .withChallenge(BOTH, 'DPoP')
      .withChallenge({ ...BOTH, realm: 'bank' });
    expect(dpop.headers['www-authenticate']).toBe(
      `DPoP realm="bank", error="invalid_token", error_description="The access token expired", ${ALGS}, Bearer realm="bank"`,
    );
  });

  it('puts dpop_scheme_required on the DPoP challenge although the request used Bearer (no downgrade)', () => {
    const error = new InvalidTokenError('dpop_scheme_required').withChallenge(BOTH, 'Bearer');
    expect(error.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="invalid_token", error_description="The access token is DPoP-bound and must be sent with the DPoP scheme", ${ALGS}, Bearer realm="api"`,
    );
  });

  it('puts every error on the DPoP challenge when Bearer is not accepted (dpop.required)', () => {
    const error = new InvalidTokenError('token_unbound').withChallenge({ ...BOTH, bearer: false }, 'Bearer');
    expect(error.headers).toEqual({
      'www-authenticate': `DPoP realm="api", error="invalid_token", error_description="A certificate-bound access token is required", ${ALGS}`,
    });
  });

  it('offers both schemes without error parameters when no credentials were sent', () => {
    const error = new InvalidTokenError('credentials_missing').withChallenge(BOTH, undefined);
    expect(error).toMatchObject({ status: 401, error: undefined, scheme: undefined });
    expect(error.headers).toEqual({ 'www-authenticate': `Bearer realm="api", DPoP realm="api", ${ALGS}` });
  });

  it('sends the nonce a refusal carries as DPoP-Nonce', () => {
    const error = new InvalidTokenError('dpop_nonce_required', { dpopNonce: 'abc.def' }).withChallenge(
      BOTH,
      'DPoP',
    );
    expect(error.dpopNonce).toBe('abc.def');
    expect(error.headers).toEqual({
      'www-authenticate': `DPoP realm="api", error="use_dpop_nonce", error_description="The DPoP proof must carry the nonce the resource server provided", ${ALGS}, Bearer realm="api"`,
      'dpop-nonce': 'abc.def',
    });
  });

  it('answers 503 with its own Retry-After and no challenge, whatever the scheme', () => {
    const error = new ServiceUnavailableError({ retryAfterSeconds: 1 }).withChallenge(BOTH, 'DPoP');
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect(error.headers).toEqual({ 'retry-after': '1' });
  });
});

describe('the stack of an error', () => {
  it('is fixed text, name, code and description: no frames, no file paths', () => {
    expect(new InvalidTokenError('token_expired').stack).toBe(
      'InvalidTokenError [token_expired]: The access token expired',
    );
    expect(new InvalidRequestError().stack).toBe(
      'InvalidRequestError [invalid_request]: The Authorization header is malformed',
    );
    expect(new InsufficientScopeError(['a']).stack).toBe(
      'InsufficientScopeError [insufficient_scope]: The access token lacks the required scope',
    );
    expect(new ServiceUnavailableError({ cause: new Error('HTTP 500 from the JWK Set') }).stack).toBe(
      'ServiceUnavailableError [authorization_server_unavailable]: The authorization server is unavailable',
    );
    expect(new CertboundError(401, 'invalid_token', 'token_malformed').stack).toBe(
      'CertboundError [token_malformed]: The access token is malformed',
    );
  });

  it('stays configurable: Error.captureStackTrace and tools that redefine it still work', () => {
    const error = new InvalidTokenError('token_expired');
    expect(Object.getOwnPropertyDescriptor(error, 'stack')?.configurable).toBe(true);
    expect(() => Error.captureStackTrace(error)).not.toThrow();
  });

  it('is not an enumerable property (JSON and spreads leave it out)', () => {
    const error = new InvalidTokenError('token_expired');
    expect(Object.keys(error)).not.toContain('stack');
    expect(JSON.stringify(error)).toBe(
      '{"error":"invalid_token","error_description":"The access token expired","code":"token_expired"}',
    );
  });
});

describe('isCertboundError', () => {
  it('recognises errors from another copy of the module by their brand', async () => {
    const { isCertboundError } = await import('../src/errors.js');
    const foreign = Object.assign(new Error('x'), { [Symbol.for('certbound.error')]: true });
    expect(isCertboundError(new InvalidTokenError('token_expired'))).toBe(true);
    // The brand the other copy looks for is on this copy's errors too.
    expect((new InvalidTokenError('token_expired') as never)[Symbol.for('certbound.error')]).toBe(true);
    expect(isCertboundError(foreign)).toBe(true);
    expect(isCertboundError(new Error('x'))).toBe(false);
    expect(isCertboundError(null)).toBe(false);
  });
});
