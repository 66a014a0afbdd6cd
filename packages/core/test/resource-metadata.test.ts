import {
  createVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataLocation,
} from '@certbound/core';
import { describe, expect, it } from 'vitest';

const base = { issuer: 'https://as.example.com', audience: 'https://api.example.com' };

describe('protectedResourceMetadataLocation (RFC 9728 §3)', () => {
  it.each([
    ['https://api.example.com', '/.well-known/oauth-protected-resource'],
    ['https://api.example.com/', '/.well-known/oauth-protected-resource'],
    ['https://api.example.com/resource1', '/.well-known/oauth-protected-resource/resource1'],
    ['https://api.example.com/a/b/', '/.well-known/oauth-protected-resource/a/b/'],
  ])('inserts the well-known segment between the host and the path of %s', (resource, path) => {
    expect(protectedResourceMetadataLocation(resource)).toEqual({
      url: `https://api.example.com${path}`,
      path,
    });
  });

  it('keeps a query after the path', () => {
    expect(protectedResourceMetadataLocation('https://api.example.com:8443/r?tenant=1').url).toBe(
      'https://api.example.com:8443/.well-known/oauth-protected-resource/r?tenant=1',
    );
  });
});

describe('protectedResourceMetadata (RFC 9728 §2)', () => {
  it('describes a header-only API that takes certificate-bound and DPoP-bound tokens, from the verifier options', () => {
    expect(
      protectedResourceMetadata({
        ...base,
        resource: 'https://api.example.com',
        scopesSupported: ['accounts:read'],
        resourceName: 'Accounts',
        resourceDocumentation: 'https://docs.example.com/accounts',
      }),
    ).toEqual({
      resource: 'https://api.example.com',
      authorization_servers: ['https://as.example.com'],
      bearer_methods_supported: ['header'],
      tls_client_certificate_bound_access_tokens: true,
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
      dpop_bound_access_tokens_required: false,
      scopes_supported: ['accounts:read'],
      resource_name: 'Accounts',
      resource_documentation: 'https://docs.example.com/accounts',
    });
  });

  it('advertises bound-token support in if-present mode too and omits members without a value', () => {
    expect(protectedResourceMetadata({ resource: 'https://api.example.com', binding: 'if-present' })).toEqual(
      {
        resource: 'https://api.example.com',
        bearer_methods_supported: ['header'],
        tls_client_certificate_bound_access_tokens: true,
        dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
        dpop_bound_access_tokens_required: false,
      },
    );
  });

  it('says which DPoP algorithms are accepted and whether DPoP is required, and nothing of DPoP when it is off', () => {
    expect(
      protectedResourceMetadata({
        resource: 'https://api.example.com',
        dpop: { required: true, algorithms: ['ES256', 'EdDSA'] },
      }),
    ).toEqual({
      resource: 'https://api.example.com',
      bearer_methods_supported: ['header'],
      tls_client_certificate_bound_access_tokens: true,
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: true,
    });
    expect(protectedResourceMetadata({ resource: 'https://api.example.com', dpop: false })).toEqual({
      resource: 'https://api.example.com',
      bearer_methods_supported: ['header'],
      tls_client_certificate_bound_access_tokens: true,
    });
  });

  it.each([
    [{ resource: 'ftp://api.example.com' }, /protectedResource.resource/],
    [{ resource: 'https://api.example.com/#frag' }, /protectedResource.resource/],
    [
      { resource: 'https://api.example.com', authorizationServers: ['http://as.example.com'] },
      /authorizationServers/,
    ],
    [{ resource: 'https://api.example.com', resourceNmae: 'typo' }, /protectedResource.resourceNmae/],
    [{ resource: 'https://api.example.com', maxAgeSeconds: -1 }, /maxAgeSeconds/],
  ])('refuses invalid options at start-up (%j)', (protectedResource, message) => {
    expect(() => createVerifier({ ...base, protectedResource } as never)).toThrow(message);
  });
});

describe('the verifier endpoint', () => {
  const verifier = createVerifier({
    ...base,
    protectedResource: { resource: 'https://api.example.com/payments', maxAgeSeconds: 60 },
  });
  const endpoint = verifier.protectedResource!;

  it('answers GET and HEAD on its path (a query is ignored) and nothing else', () => {
    const get = endpoint.respond('GET', '/.well-known/oauth-protected-resource/payments?x=1');
    expect(get).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' },
      body: JSON.stringify(endpoint.document),
    });
    expect(endpoint.respond('HEAD', '/.well-known/oauth-protected-resource/payments')?.status).toBe(200);
    expect(endpoint.respond('POST', '/.well-known/oauth-protected-resource/payments')).toEqual({
      status: 405,
      headers: { allow: 'GET, HEAD' },
      body: '',
    });
    expect(endpoint.respond('GET', '/.well-known/oauth-protected-resource')).toBeUndefined();
    expect(endpoint.respond('GET', '/.well-known/oauth-protected-resource/payments/')).toBeUndefined();
  });

  it('points challenges to the document (without a realm unless one is set) unless resourceMetadata says otherwise', async () => {
    await expect(verifier.verify({})).rejects.toMatchObject({
      headers: {
        'www-authenticate':
          'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/payments", DPoP resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/payments", algs="ES256 ES384 EdDSA PS256 RS256"',
      },
    });
    const explicit = createVerifier({
      ...base,
      resourceMetadata: 'https://meta.example.com/prm',
      protectedResource: { resource: 'https://api.example.com' },
    });
    await expect(explicit.verify({})).rejects.toMatchObject({
      headers: {
        'www-authenticate':
          'Bearer resource_metadata="https://meta.example.com/prm", DPoP resource_metadata="https://meta.example.com/prm", algs="ES256 ES384 EdDSA PS256 RS256"',
      },
    });
    await Promise.all([verifier.close(), explicit.close()]);
  });
});
