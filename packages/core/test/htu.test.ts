import { describe, expect, it } from 'vitest';
import { normalizeHtu, normalizeOrigin, requestHtu } from '../src/dpop/htu.js';

describe('normalizeHtu (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2 and §6.2.3)', () => {
  it.each([
    ['an already normal URI', 'https://api.example.com/accounts', 'https://api.example.com/accounts'],
    ['scheme and host in upper case', 'HTTPS://API.Example.COM/accounts', 'https://api.example.com/accounts'],
    ['the path’s case kept', 'https://api.example.com/Accounts/ID', 'https://api.example.com/Accounts/ID'],
    ['the default https port', 'https://api.example.com:443/a', 'https://api.example.com/a'],
    ['the default http port', 'http://api.example.com:80/a', 'http://api.example.com/a'],
    ['another port kept', 'https://api.example.com:8443/a', 'https://api.example.com:8443/a'],
    ['the https port on http kept', 'http://api.example.com:443/a', 'http://api.example.com:443/a'],
    ['an empty path as /', 'https://api.example.com', 'https://api.example.com/'],
    ['. and .. segments removed', 'https://api.example.com/a/./b/../c', 'https://api.example.com/a/c'],
    ['.. above the root', 'https://api.example.com/../../a', 'https://api.example.com/a'],
    [
      'percent-encoded dot segments removed',
      'https://api.example.com/a/%2e%2E/b',
      'https://api.example.com/b',
    ],
    [
      'percent-encodings in upper case',
      'https://api.example.com/a%2fb%c3%a9',
      'https://api.example.com/a%2Fb%C3%A9',
    ],
    [
      'unreserved characters decoded',
      'https://api.example.com/%7Euser/%41%7a%30-%2D%2e%5F',
      'https://api.example.com/~user/Az0--._',
    ],
    [
      'reserved characters kept encoded',
      'https://api.example.com/a%3Fb%23c%2F',
      'https://api.example.com/a%3Fb%23c%2F',
    ],
    ['the query dropped', 'https://api.example.com/a?b=c&d', 'https://api.example.com/a'],
    ['the fragment dropped', 'https://api.example.com/a#section', 'https://api.example.com/a'],
    ['query and fragment dropped', 'https://api.example.com/a/?q=1#f', 'https://api.example.com/a/'],
    ['an IPv6 host with the default port', 'https://[::1]:443/a', 'https://[::1]/a'],
    ['an IPv4 host', 'http://127.0.0.1:3000/a', 'http://127.0.0.1:3000/a'],
  ])('normalizes %s', (_name, uri, normalized) => {
    expect(normalizeHtu(uri)).toBe(normalized);
  });

  it.each([
    ['userinfo', 'https://user@api.example.com/a'],
    ['userinfo with a password', 'https://user:secret@api.example.com/a'],
    ['an empty userinfo password', 'https://user:@api.example.com/a'],
    ['another scheme', 'ftp://api.example.com/a'],
    ['a websocket scheme', 'wss://api.example.com/a'],
    ['a data URI', 'data:text/plain,hello'],
    ['a relative reference', '/accounts'],
    ['a scheme-relative reference', '//api.example.com/accounts'],
    ['no scheme', 'api.example.com/accounts'],
    ['an empty string', ''],
    ['a space', 'https://api.example.com/a b'],
    ['a leading space', ' https://api.example.com/a'],
    ['a trailing newline', 'https://api.example.com/a\n'],
    ['a tab inside', 'https://api.\texample.com/a'],
    ['a carriage return', 'https://api.example.com/a\r'],
    ['a non-ASCII host', 'https://bücher.example/a'],
    ['a non-ASCII path', 'https://api.example.com/é'],
    ['a URI over 8192 characters', `https://api.example.com/${'a'.repeat(8192)}`],
  ])('refuses %s', (_name, uri) => {
    expect(normalizeHtu(uri)).toBeUndefined();
  });

  it('takes a URI of exactly 8192 characters', () => {
    const uri = `https://api.example.com/${'a'.repeat(8192 - 'https://api.example.com/'.length)}`;
    expect(uri.length).toBe(8192);
    expect(normalizeHtu(uri)).toBe(uri);
  });
});

describe('requestHtu', () => {
  it.each([
    ['https://api.example.com', '/accounts', 'https://api.example.com/accounts'],
    ['https://api.example.com', '/accounts?page=2&access=1', 'https://api.example.com/accounts'],
    ['https://api.example.com', '/', 'https://api.example.com/'],
    ['https://api.example.com:8443', '/a/../b/./c', 'https://api.example.com:8443/b/c'],
    ['https://api.example.com', '/%7Ea%2fb', 'https://api.example.com/~a%2Fb'],
    ['https://api.example.com', '//evil.example/x', 'https://api.example.com//evil.example/x'],
    ['http://localhost:3000', '/a?', 'http://localhost:3000/a'],
    // Absolute-form (RFC 9112 §3.2.2): its path; the origin is the one the verifier knows.
    ['https://api.example.com', 'https://other.example/accounts?x', 'https://api.example.com/accounts'],
  ])('gives %s with the target %s as %s', (origin, target, htu) => {
    expect(requestHtu(origin, target)).toBe(htu);
  });

  it.each([
    ['an empty target', ''],
    ['the asterisk form', '*'],
    ['the authority form', 'api.example.com:443'],
    ['a query alone', '?a=1'],
    ['a space in the path', '/a b'],
  ])('refuses %s', (_name, target) => {
    expect(requestHtu('https://api.example.com', target)).toBeUndefined();
  });
});

describe('normalizeOrigin', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com'],
    ['HTTPS://API.EXAMPLE.COM', 'https://api.example.com'],
    ['https://api.example.com:443', 'https://api.example.com'],
    ['https://api.example.com:8443/', 'https://api.example.com:8443'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['https://[::1]:8443', 'https://[::1]:8443'],
  ])('normalizes %s to %s', (origin, normalized) => {
    expect(normalizeOrigin(origin)).toBe(normalized);
  });

  it.each([
    ['a path', 'https://api.example.com/v1'],
    ['a path with a trailing slash', 'https://api.example.com/v1/'],
    ['a query', 'https://api.example.com/?tenant=1'],
    ['a fragment', 'https://api.example.com/#top'],
    ['an empty fragment', 'https://api.example.com#'],
    ['userinfo', 'https://user@api.example.com'],
    ['another scheme', 'wss://api.example.com'],
    ['no scheme', 'api.example.com'],
    ['a space', 'https://api.example.com /'],
  ])('refuses %s', (_name, origin) => {
    expect(normalizeOrigin(origin)).toBeUndefined();
  });
});
