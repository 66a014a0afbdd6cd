import { describe, expect, it } from 'vitest';
import {
  authorizationCredentials,
  authorizationLines,
  bearerToken,
  hasOtherTokenMethod,
  MAX_TOKEN_LENGTH,
} from '../src/authorization-header.js';
import { InvalidRequestError } from '../src/errors.js';
import { thrownBy } from './support/outcomes.js';

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def-ghi', 'abc.def-ghi'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['Bearer    abc', 'abc'],
    ['Bearer a~b+c/d==', 'a~b+c/d=='],
  ])('reads %j', (header, token) => {
    expect(bearerToken([header])).toBe(token);
  });

  it.each([[[]], [['Basic dXNlcjpwYXNz']], [['DPoP abc']], [['Bearerabc']], [['Negotiate']]])(
    'returns nothing for %j (no credentials, or another scheme)',
    (lines) => {
      expect(bearerToken(lines)).toBeUndefined();
    },
  );

  it.each([
    ['Bearer'],
    ['Bearer '],
    ['Bearer\tabc'],
    ['Bearer abc def'],
    ['Bearer abc,def'],
    ['Bearer "abc"'],
    ['Bearer a=b'],
    ['Bearer abc\u00e9'],
    [`Bearer ${'a'.repeat(16_385)}`],
  ])('rejects %j with invalid_request', (header) => {
    expect(() => bearerToken([header])).toThrow(InvalidRequestError);
  });

  it('reads a token of exactly MAX_TOKEN_LENGTH characters, and refuses one more', () => {
    const longest = 'a'.repeat(MAX_TOKEN_LENGTH);
    expect(bearerToken([`Bearer ${longest}`])).toBe(longest);
    expect(() => bearerToken([`Bearer ${longest}a`])).toThrow(InvalidRequestError);
  });

  it('rejects a non-string value (verify() misuse) with invalid_request', () => {
    expect(() => bearerToken([42 as unknown as string])).toThrow(InvalidRequestError);
  });

  it('rejects two Authorization lines', () => {
    expect(() => bearerToken(['Bearer a', 'Bearer b'])).toThrow(/must appear once/);
  });
});

describe('authorizationCredentials', () => {
  it.each([
    ['DPoP abc.def-ghi', { scheme: 'DPoP', token: 'abc.def-ghi' }],
    ['dpop abc', { scheme: 'DPoP', token: 'abc' }],
    ['DPOP   a~b+c/d==', { scheme: 'DPoP', token: 'a~b+c/d==' }],
    ['Bearer abc', { scheme: 'Bearer', token: 'abc' }],
  ])('reads %j with DPoP on', (line, credentials) => {
    expect(authorizationCredentials([line], true)).toEqual(credentials);
  });

  it('reads only Bearer with DPoP off: a DPoP line is another scheme (no credentials)', () => {
    expect(authorizationCredentials(['DPoP abc'], false)).toBeUndefined();
    expect(authorizationCredentials(['DPoP'], false)).toBeUndefined();
    expect(authorizationCredentials(['Bearer abc'], false)).toEqual({ scheme: 'Bearer', token: 'abc' });
  });

  it.each([[[]], [['Basic dXNlcjpwYXNz']], [['DPoPabc']], [['DPoP-Bound abc']]])(
    'returns nothing for %j with DPoP on',
    (lines) => {
      expect(authorizationCredentials(lines, true)).toBeUndefined();
    },
  );

  it.each([
    ['DPoP'],
    ['DPoP '],
    ['DPoP\tabc'],
    ['DPoP abc def'],
    ['DPoP "abc"'],
    [`DPoP ${'a'.repeat(16_385)}`],
  ])('rejects %j with invalid_request', (line) => {
    const error = thrownBy(() => authorizationCredentials([line], true));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_request',
      description: 'The Authorization header is malformed',
    });
  });

  it('rejects a DPoP and a Bearer line together as a duplicate', () => {
    const error = thrownBy(() => authorizationCredentials(['DPoP a', 'Bearer b'], true));
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_request',
      description: 'The Authorization header must appear once',
    });
  });
});

describe('authorizationLines', () => {
  it('finds every Authorization line in rawHeaders, whatever the case', () => {
    const rawHeaders = ['Host', 'x', 'Authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b'];
    expect(authorizationLines({ rawHeaders })).toEqual(['Bearer a', 'Bearer b']);
  });

  it('falls back to headers when rawHeaders is absent', () => {
    expect(authorizationLines({ headers: { authorization: 'Bearer a' } })).toEqual(['Bearer a']);
    expect(authorizationLines({ headers: {} })).toEqual([]);
  });
});

describe('hasOtherTokenMethod', () => {
  it('sees access_token in the query string or a parsed body', () => {
    expect(hasOtherTokenMethod({ url: '/x?access_token=abc' })).toBe(true);
    expect(hasOtherTokenMethod({ url: '/x?a=1&access_token=' })).toBe(true);
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    expect(hasOtherTokenMethod({ url: '/x', headers: form, body: { access_token: 'abc' } })).toBe(true);
  });

  it('ignores look-alikes', () => {
    expect(hasOtherTokenMethod({ url: '/access_token?x=1' })).toBe(false);
    expect(hasOtherTokenMethod({ url: '/x?my_access_token=1' })).toBe(false);
    expect(hasOtherTokenMethod({ url: '/x', body: 'access_token=abc' })).toBe(false);
    // A JSON body's access_token member is application data (RFC 6750 §2.2 is form-encoded only).
    const json = { 'content-type': 'application/json' };
    expect(hasOtherTokenMethod({ url: '/x', headers: json, body: { access_token: 'abc' } })).toBe(false);
  });

  it('sees a form body by its exact media type, with or without parameters', () => {
    const body = { access_token: 'abc' };
    for (const type of ['application/x-www-form-urlencoded', 'Application/X-WWW-Form-Urlencoded ; a=b']) {
      expect(hasOtherTokenMethod({ url: '/x', headers: { 'content-type': type }, body })).toBe(true);
    }
    for (const type of [
      'text/plain; x=application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded-json',
      'application/x-www-form-urlencodedx; a=b',
    ]) {
      expect(hasOtherTokenMethod({ url: '/x', headers: { 'content-type': type }, body })).toBe(false);
    }
  });

  it('is false for a form body without access_token, a null body, or no content type', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(hasOtherTokenMethod({ url: '/x', headers: form, body: { token: 'abc' } })).toBe(false);
    expect(hasOtherTokenMethod({ url: '/x', headers: form, body: null })).toBe(false);
    expect(hasOtherTokenMethod({ url: '/x', body: { access_token: 'abc' } })).toBe(false);
    expect(hasOtherTokenMethod({ url: '/x', headers: {}, body: { access_token: 'abc' } })).toBe(false);
  });
});

describe('hasOtherTokenMethod with percent-encoding', () => {
  it('sees a percent-encoded access_token name in the query', () => {
    expect(hasOtherTokenMethod({ url: '/x?access%5Ftoken=abc' })).toBe(true);
    expect(hasOtherTokenMethod({ url: '/x?%61ccess_token=abc' })).toBe(true);
    expect(hasOtherTokenMethod({ url: '/x?q=%20' })).toBe(false);
  });
});
