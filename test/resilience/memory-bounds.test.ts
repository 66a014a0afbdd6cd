/**
 * The validated-token memo and the introspection cache are bounded by memory as well as by
 * count: tokens with large claims evict each other once `maxBytes` is reached. Counted through
 * the `certbound:cache` channel (hits after a full pass), never by measuring the heap.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type CacheEvent, createVerifier, DIAGNOSTICS_CHANNELS, type Verifier } from '@certbound/core';
import { createTestIssuer, createTestPki, type TestCertificate, type TestIssuer } from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let issuer: TestIssuer;
let client: TestCertificate;

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
  client = await pki.issueClient({ subject: 'CN=client-a' });
});

afterAll(async () => {
  await issuer?.close();
});

/** Runs `work` and counts the cache events of `cache` it caused, by kind. */
async function cacheEvents(cache: CacheEvent['cache'], work: () => Promise<void>) {
  const counts = { hit: 0, negative: 0, miss: 0, coalesced: 0 };
  const listener = (message: unknown) => {
    const event = message as CacheEvent;
    if (event.cache === cache) counts[event.event]++;
  };
  subscribe(DIAGNOSTICS_CHANNELS.cache, listener);
  try {
    await work();
  } finally {
    unsubscribe(DIAGNOSTICS_CHANNELS.cache, listener);
  }
  return counts;
}

const LARGE_CLAIM = 'x'.repeat(8 * 1024);
const MAX_BYTES = 1024 * 1024;

async function passes(verifier: Verifier, tokens: string[]) {
  for (const token of tokens) {
    const auth = await verifier.verify({ authorization: `Bearer ${token}`, certificate: client.cert });
    expect(auth.bound).toBe(true);
  }
}

describe('memory bounds', () => {
  it('keeps at most maxBytes of validated tokens with 8 KB of claims each', async () => {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: issuer.jwks,
      tokenCache: { max: 10_000, maxBytes: MAX_BYTES },
    });
    const tokens = await Promise.all(
      Array.from({ length: 200 }, () =>
        issuer.mintAccessToken({ certificate: client, claims: { profile: LARGE_CLAIM } }),
      ),
    );
    await passes(verifier, tokens);
    const second = await cacheEvents('token', () => passes(verifier, [...tokens].reverse()));
    const perEntry = 2 * tokens[0]!.length;
    // Reversed: the most recent entries are hit until the memo's bytes run out.
    expect(second.hit).toBeGreaterThan(0);
    expect(second.hit).toBeLessThanOrEqual(Math.floor(MAX_BYTES / perEntry));
    expect(second.hit + second.miss).toBe(200);
    await verifier.close();
  });

  it('keeps at most maxBytes of introspection results with 8 KB of members each', async () => {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      tls: { ca: issuer.ca },
      tokenFormat: 'opaque',
      introspection: {
        ...issuer.introspectionClient,
        endpoint: issuer.introspectionEndpoint,
        cache: { maxBytes: MAX_BYTES },
      },
    });
    const tokens = Array.from({ length: 200 }, () =>
      issuer.mintOpaqueToken({ certificate: client, claims: { profile: LARGE_CLAIM } }),
    );
    await passes(verifier, tokens);
    const second = await cacheEvents('introspection', () => passes(verifier, [...tokens].reverse()));
    expect(second.hit).toBeGreaterThan(0);
    expect(second.hit).toBeLessThanOrEqual(Math.floor(MAX_BYTES / (2 * LARGE_CLAIM.length)));
    expect(second.hit + second.miss).toBe(200);
    await verifier.close();
  });
});
