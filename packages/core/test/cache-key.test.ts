import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenKey } from '../src/token/cache-key.js';

describe('tokenKey', () => {
  it('keys entries by the SHA-256 of the token, never the token', () => {
    const key = tokenKey('secret-token');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('secret');
  });

  it('is the base64url SHA-256 of the token, after the namespace', () => {
    const digest = createHash('sha256').update('secret-token').digest('base64url');
    expect(tokenKey('secret-token')).toBe(digest);
    expect(tokenKey('secret-token', 'certbound:introspection:abc:')).toBe(
      `certbound:introspection:abc:${digest}`,
    );
  });

  it('gives different tokens different keys', () => {
    expect(tokenKey('token-a')).not.toBe(tokenKey('token-b'));
  });
});
