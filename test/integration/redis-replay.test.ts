/**
 * DPoP replay detection shared by API instances through a real Redis (`redisReplayStore`), with
 * each client library: a proof accepted by one instance is refused by the other; with Redis
 * stopped mid-run each instance still refuses what it has seen itself, and says so on
 * `certbound:replay`. Proofs are made by @certbound/testing, tokens by the test issuer.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createVerifier, DIAGNOSTICS_CHANNELS, type ReplayEvent, type Verifier } from '@certbound/core';
import { redisReplayStore } from '@certbound/redis';
import { createDpopProof, createTestIssuer, type DpopKey, type TestIssuer } from '@certbound/testing';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientHandle } from '../../packages/redis/test/support/redis-clients.js';
import { type RedisServer, startRedisServer } from '../../packages/redis/test/support/redis-server.js';

const URL_ = 'https://api.example.test/accounts';
let issuer: TestIssuer;
let key: DpopKey;
let redis: RedisServer;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] });
  key = await generateKeyPair('ES256', { extractable: true });
  redis = await startRedisServer();
});

afterAll(async () => {
  await Promise.all([redis?.close(), issuer?.close()]);
});

/** Sends `proof` with `token` to `verifier`: the code of the refusal, or 'accepted'. */
async function present(verifier: Verifier, token: string, proof: string): Promise<string> {
  try {
    await verifier.verify({ authorization: `DPoP ${token}`, dpop: proof, method: 'GET', url: URL_ });
    return 'accepted';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe.each(CLIENT_KINDS)(
  'two API instances sharing DPoP replay detection through Redis ($name)',
  (kind) => {
    let clients: ClientHandle[] = [];
    let instances: Verifier[] = [];

    beforeAll(async () => {
      clients = [await kind.connect(redis.port), await kind.connect(redis.port)];
      instances = clients.map((handle) =>
        createVerifier({
          issuer: issuer.issuer,
          audience: issuer.audience,
          jwks: issuer.jwks,
          binding: 'required',
          dpop: { replay: { store: redisReplayStore({ client: handle.client, timeoutMs: 1000 }) } },
        }),
      );
    });

    afterAll(async () => {
      await Promise.all(instances.map((verifier) => verifier.close()));
      await Promise.all(clients.map((handle) => handle.close()));
    });

    it('refuses on the second instance a proof the first one accepted', async () => {
      const token = await issuer.mintAccessToken({ dpopKey: key });
      const proof = await createDpopProof({ key, method: 'GET', url: URL_, accessToken: token });
      expect(await present(instances[0]!, token, proof)).toBe('accepted');
      expect(await present(instances[1]!, token, proof)).toBe('dpop_proof_replayed');
      // A fresh proof is fine on either.
      const fresh = await createDpopProof({ key, method: 'GET', url: URL_, accessToken: token });
      expect(await present(instances[1]!, token, fresh)).toBe('accepted');
    });

    it('stores a hash, never the proof, the key or the token', async () => {
      const token = await issuer.mintAccessToken({ dpopKey: key });
      const proof = await createDpopProof({
        key,
        method: 'GET',
        url: URL_,
        accessToken: token,
        jti: `visible-jti-${kind.name}`,
      });
      expect(await present(instances[0]!, token, proof)).toBe('accepted');
      const keys = (await clients[0]!.command('KEYS', '*')) as string[];
      expect(keys.length).toBeGreaterThan(0);
      for (const stored of keys) {
        expect(stored).toMatch(/^certbound:certbound:dpop-jti:[A-Za-z0-9_-]{43}$/);
        expect(stored).not.toContain('visible-jti');
      }
    });
  },
);

describe('Redis stopped mid-run', () => {
  it('degrades to the in-process cache, reports store_error, and still refuses what this instance saw', async () => {
    const handle = await CLIENT_KINDS[0]!.connect(redis.port);
    const events: ReplayEvent[] = [];
    const listener = (message: unknown) => events.push(message as ReplayEvent);
    subscribe(DIAGNOSTICS_CHANNELS.replay, listener);
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: issuer.jwks,
      dpop: { replay: { store: redisReplayStore({ client: handle.client, timeoutMs: 200 }) } },
    });
    try {
      const token = await issuer.mintAccessToken({ dpopKey: key });
      const before = await createDpopProof({ key, method: 'GET', url: URL_, accessToken: token });
      expect(await present(verifier, token, before)).toBe('accepted');
      await redis.stop();
      const during = await createDpopProof({ key, method: 'GET', url: URL_, accessToken: token });
      expect(await present(verifier, token, during)).toBe('accepted');
      expect(await present(verifier, token, during)).toBe('dpop_proof_replayed');
      expect(await present(verifier, token, before)).toBe('dpop_proof_replayed');
      expect(events.map((event) => event.outcome)).toEqual(['store_error', 'replayed', 'replayed']);
    } finally {
      unsubscribe(DIAGNOSTICS_CHANNELS.replay, listener);
      await verifier.close();
      await handle.close();
      await redis.start();
    }
  });
});
