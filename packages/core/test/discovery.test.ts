import { createTestIssuer, createTestPki } from '@certbound/testing';
import { describe, expect, it } from 'vitest';
import { discover, discoveryUrls } from '../src/authorization-server/discovery.js';
import { HttpClient } from '../src/authorization-server/http-client.js';
import { ServiceUnavailableError } from '../src/errors.js';

describe('discoveryUrls', () => {
  it('inserts the RFC 8414 well-known path before the issuer path, and appends the OpenID one', () => {
    expect(discoveryUrls('https://as.example.com')).toEqual([
      'https://as.example.com/.well-known/oauth-authorization-server',
      'https://as.example.com/.well-known/openid-configuration',
    ]);
    expect(discoveryUrls('https://as.example.com/tenants/a')).toEqual([
      'https://as.example.com/.well-known/oauth-authorization-server/tenants/a',
      'https://as.example.com/tenants/a/.well-known/openid-configuration',
    ]);
    expect(discoveryUrls('https://as.example.com/tenants/a/')[1]).toBe(
      'https://as.example.com/tenants/a/.well-known/openid-configuration',
    );
  });
});

describe('discover', () => {
  it.each(['oauth', 'openid', 'both'] as const)(
    'finds the metadata when the issuer serves %s',
    async (metadata) => {
      const pki = await createTestPki();
      const issuer = await createTestIssuer({ pki, metadata });
      const http = new HttpClient({ ca: issuer.ca });
      try {
        const document = await discover(issuer.issuer, http, 2000);
        expect(document.issuer).toBe(issuer.issuer);
        expect(document.jwks_uri).toBe(issuer.jwksUri);
      } finally {
        await http.close();
        await issuer.close();
      }
    },
  );

  it('refuses metadata for another issuer, and an issuer it cannot reach, with a 503', async () => {
    const pki = await createTestPki();
    const issuer = await createTestIssuer({ pki });
    const http = new HttpClient({ ca: issuer.ca });
    try {
      await expect(discover(`${issuer.issuer}/`, http, 2000)).rejects.toThrow(ServiceUnavailableError);
      await expect(discover('https://127.0.0.1:1', http, 2000)).rejects.toThrow(ServiceUnavailableError);
    } finally {
      await http.close();
      await issuer.close();
    }
  });

  it('refuses a server whose TLS certificate is not trusted', async () => {
    const issuer = await createTestIssuer();
    const http = new HttpClient();
    try {
      await expect(discover(issuer.issuer, http, 2000)).rejects.toThrow(ServiceUnavailableError);
    } finally {
      await http.close();
      await issuer.close();
    }
  });
});
