// What every row needs, made once per run in the parent: a test PKI and issuer
// (@certbound/testing, discovery + JWKS + introspection over HTTPS on 127.0.0.1), client
// certificates, tokens, and on demand the rotation pool and DPoP proofs.
import { createDpopProof, createTestIssuer, createTestPki } from '@certbound/testing';
import { generateKeyPair } from 'jose';

const SCOPE = 'bench:read';
const EXPIRES_IN = 3600; // outlives the whole run
/** Concurrent signatures while minting tokens or proofs. */
const BATCH = 64;

async function inBatches(count, make) {
  const out = new Array(count);
  for (let start = 0; start < count; start += BATCH) {
    const end = Math.min(count, start + BATCH);
    const batch = [];
    for (let i = start; i < end; i++) batch.push(make(i));
    const made = await Promise.all(batch);
    for (let i = start; i < end; i++) out[i] = made[i - start];
  }
  return out;
}

/** RFC 9440 `Client-Cert` value: the DER certificate as a structured-field byte sequence. */
const clientCertHeader = (certificate) => `:${certificate.der.toString('base64')}:`;

export async function createFixtures({ rs256 = false } = {}) {
  const pki = await createTestPki();
  const issuer = await createTestIssuer({ pki, algorithms: rs256 ? ['ES256', 'RS256'] : ['ES256'] });
  const client = await pki.issueClient({ subject: 'CN=bench-client' });
  const otherClient = await pki.issueClient({ subject: 'CN=bench-other-client' });
  const dpopKey = await generateKeyPair('ES256', { extractable: true });
  const mint = (options) => issuer.mintAccessToken({ scope: SCOPE, expiresIn: EXPIRES_IN, ...options });

  const tokens = {
    es256: await mint({ certificate: client, alg: 'ES256' }),
    rs256: rs256 ? await mint({ certificate: client, alg: 'RS256' }) : undefined,
    opaque: issuer.mintOpaqueToken({ certificate: client, scope: SCOPE, expiresIn: EXPIRES_IN }),
    dpop: await mint({ dpopKey, alg: 'ES256' }),
  };

  let pool = [];
  return {
    pki,
    issuer,
    client,
    otherClient,
    dpopKey,
    tokens,
    /** The load generator's TLS options: with the bound client certificate, or none. */
    tls: {
      bound: { cert: client.cert, key: client.key },
      other: { cert: otherClient.cert, key: otherClient.key },
    },
    clientCertHeader: clientCertHeader(client),
    otherClientCertHeader: clientCertHeader(otherClient),
    /** certbound options every certbound server starts from. */
    certboundBase: { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca } },
    /** express-oauth2-jwt-bearer options every peer server starts from. */
    peerBase: { issuer: issuer.issuer, audience: issuer.audience, ca: issuer.ca },
    introspection: {
      clientId: issuer.introspectionClient.clientId,
      clientSecret: issuer.introspectionClient.clientSecret,
      endpoint: issuer.introspectionEndpoint,
    },
    /**
     * At least `count` distinct ES256 tokens bound to the client certificate (minted once, grown on
     * demand): the rotation curve and the new-token row draw from it.
     */
    async rotationPool(count) {
      if (pool.length < count) {
        const more = await inBatches(count - pool.length, () => mint({ certificate: client, alg: 'ES256' }));
        pool = pool.concat(more);
      }
      return pool;
    },
    /** `count` fresh DPoP proofs (unique jti, iat now) for GET `url` with the DPoP-bound token. */
    dpopProofs(count, url) {
      return inBatches(count, () =>
        createDpopProof({ key: dpopKey, method: 'GET', url, accessToken: tokens.dpop }),
      );
    },
    close: () => issuer.close(),
  };
}
