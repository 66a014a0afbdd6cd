import { describe, expect, it } from 'vitest';
import {
  CertboundError,
  InsufficientScopeError,
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
});

describe('isCertboundError', () => {
  it('recognises errors from another copy of the module by their brand', async () => {
    const { isCertboundError } = await import('../src/errors.js');
    const foreign = Object.assign(new Error('x'), { [Symbol.for('certbound.error')]: true });
    expect(isCertboundError(new InvalidTokenError('token_expired'))).toBe(true);
    expect(isCertboundError(foreign)).toBe(true);
    expect(isCertboundError(new Error('x'))).toBe(false);
    expect(isCertboundError(null)).toBe(false);
  });
});
