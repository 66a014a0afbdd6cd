// The groups about tokens: many distinct tokens (rotation curve, a new token per request) and
// DPoP (a fresh proof per request), each request's headers fed by the load generator.
import { cyclingFeed, oneShotFeed } from './load.mjs';
import { probe } from './sanity.mjs';

/** certbound's default `tokenCache.max`: rotations larger than this cannot all stay memoized. */
export const TOKEN_MEMO_MAX = 10_000;

const bearer = (token) => ({ authorization: `Bearer ${token}` });

/**
 * Express + certbound with N distinct tokens sent round-robin, one server per N, and a server that
 * gets a token it has not seen on every request. All draw from one pool of
 * max(N) tokens minted in this process; the new-token server walks through the whole pool (when
 * it wraps around, a token was last seen max(N) requests earlier, long evicted from the memo).
 */
export async function rotationGroup(fx, config) {
  const sizes = config.rotationSizes;
  const pool = await fx.rotationPool(Math.max(...sizes, 1000));
  const servers = {};
  const rows = [];
  const ratios = [];
  for (const n of sizes) {
    const tokens = pool.slice(0, n);
    const feed = cyclingFeed(tokens, bearer);
    servers[`rotation-${n}`] = { app: 'express', auth: { certbound: fx.certboundBase } };
    rows.push({
      name: `rotation-${n}`,
      server: `rotation-${n}`,
      what:
        `Express + certbound, ${n.toLocaleString('en-US')} distinct token${n === 1 ? '' : 's'} round-robin` +
        (n > TOKEN_MEMO_MAX ? ` (more than tokenCache.max ${TOKEN_MEMO_MAX.toLocaleString('en-US')})` : ''),
      load: () => ({ certificate: fx.tls.bound, feed }),
      feed,
      // "Once warm": every token seen once before the measured rounds, where the memo can hold them.
      minWarmupRequests: n <= TOKEN_MEMO_MAX ? n : 0,
      probes: async () => [
        probe('bound cert', 200, { certificate: fx.tls.bound, headers: bearer(tokens[0]) }),
        probe('last token', 200, { certificate: fx.tls.bound, headers: bearer(tokens[n - 1]) }),
        probe('no cert', 401, { headers: bearer(tokens[0]) }),
      ],
    });
  }
  const base = `rotation-${sizes[0]}`;
  for (const n of sizes.slice(1)) {
    ratios.push(
      n <= TOKEN_MEMO_MAX
        ? { of: `rotation-${n}`, vs: base, min: 0.95, note: 'flat once warm' }
        : { of: `rotation-${n}`, vs: base, note: `N > tokenCache.max: every request misses the memo` },
    );
  }
  // The new-token row: probes use tokens from the end of the pool, which its feed reaches last.
  const fresh = cyclingFeed(pool, bearer);
  servers['new-token'] = { app: 'express', auth: { certbound: fx.certboundBase } };
  rows.push({
    name: 'new-token',
    server: 'new-token',
    what: 'Express + certbound, a token it has not seen on every request (one signature verification each)',
    load: () => ({ certificate: fx.tls.bound, feed: fresh }),
    feed: fresh,
    probes: async () => [
      probe('bound cert', 200, { certificate: fx.tls.bound, headers: bearer(pool[pool.length - 1]) }),
      probe('no cert', 401, { headers: bearer(pool[pool.length - 2]) }),
    ],
  });
  ratios.push({
    of: 'new-token',
    vs: base,
    newToken: true,
    note: 'CPU beyond a memo hit vs one signature verification',
  });
  return {
    name: 'rotation',
    title: 'Many tokens: rotation curve and a new token per request',
    servers,
    rows,
    ratios,
  };
}

/** The origin the DPoP rows address: every DPoP request says `Host: localhost`, so `htu` is this. */
const DPOP_URL = 'https://localhost/';
/** Requests per second assumed for the warm-up's proof pool, before anything is measured. */
const DPOP_RATE_GUESS = 4000;

/**
 * DPoP: certbound and the peer, each request with a proof made for it (unique jti, iat fresh: the
 * proofs are made right before each round), and certbound with the mTLS binding for comparison.
 * Both DPoP servers get the same proofs (each server sees each proof once).
 */
export function dpopGroup(fx) {
  let proofs = [];
  let reserve = 500;
  const dpopHeaders = { host: 'localhost', authorization: `DPoP ${fx.tokens.dpop}` };
  const feeds = new Map();
  const feedFor = (name) => {
    let feed = feeds.get(name);
    if (!feed) {
      feed = oneShotFeed(proofs, (dpop) => ({ dpop }), reserve);
      feeds.set(name, feed);
    }
    return feed;
  };
  const dpopRow = (name, server, what, replay) => ({
    name,
    server,
    what,
    load: () => ({ headers: dpopHeaders, feed: feedFor(name) }),
    probes: async () => {
      const [proof] = await fx.dpopProofs(1, DPOP_URL);
      return [
        probe('fresh proof', 200, { headers: { ...dpopHeaders, dpop: proof } }),
        probe('same proof again', replay, { headers: { ...dpopHeaders, dpop: proof } }),
        probe('no proof', 'reject', { headers: dpopHeaders }),
      ];
    },
  });
  const mtls = bearer(fx.tokens.es256);
  return {
    name: 'dpop',
    title: 'DPoP: a fresh proof per request',
    servers: {
      // Default DPoP settings: the replay cache's bound (1,000,000 proofs, each kept 65 s) covers
      // about 15,000 fresh proofs per second sustained, far above what one core verifies.
      certbound: { app: 'express', auth: { certbound: { ...fx.certboundBase, dpop: {} } } },
      peer: { app: 'express', auth: { peer: { ...fx.peerBase, dpop: { enabled: true, required: true } } } },
    },
    rows: [
      dpopRow(
        'dpop-certbound',
        'certbound',
        'Express + certbound, DPoP-bound token, fresh proof per request',
        401,
      ),
      dpopRow(
        'dpop-peer',
        'peer',
        'express-oauth2-jwt-bearer dpop: { enabled, required } (no jti replay check)',
        'any',
      ),
      {
        name: 'dpop-mtls-certbound',
        server: 'certbound',
        what: 'the same certbound server, mTLS-bound token (Bearer, client certificate)',
        load: () => ({ certificate: fx.tls.bound, headers: mtls }),
        probes: async () => [
          probe('bound cert', 200, { certificate: fx.tls.bound, headers: mtls }),
          probe('no cert', 401, { headers: mtls }),
        ],
      },
    ],
    ratios: [
      { of: 'dpop-certbound', vs: 'dpop-peer', min: 1.5 },
      { of: 'dpop-certbound', vs: 'dpop-mtls-certbound', note: 'DPoP vs mTLS binding' },
    ],
    /**
     * Before the warm-up and each round: a new pool of proofs, sized from the fastest DPoP row
     * so far (1.5× its rate over the phase, plus a reserve for the requests in flight at a stop).
     */
    async beforePhase(seconds, ratesSoFar) {
      const rate = Math.max(
        DPOP_RATE_GUESS / 2,
        ...['dpop-certbound', 'dpop-peer'].map((n) => ratesSoFar[n] ?? 0),
      );
      const guessed = Object.keys(ratesSoFar).length === 0 ? DPOP_RATE_GUESS : rate;
      reserve = Math.max(500, Math.ceil(guessed * 0.5));
      proofs = await fx.dpopProofs(Math.ceil(guessed * seconds * 1.5) + reserve, DPOP_URL);
      feeds.clear();
      return proofs.length;
    },
  };
}
