// What one run measures: groups of rows, each group's servers started together, its rows measured
// in alternating rounds, its ratios taken within the same rounds. See bench/README.md for each row.

import { dpopGroup, rotationGroup } from './plan-tokens.mjs';
import { probe } from './sanity.mjs';

/** The probes of a row authenticated by the TLS client certificate. */
export function tlsProbes(fx, headers, { noCert = 401, otherCert = 401 } = {}) {
  return async () => [
    probe('bound cert', 200, { certificate: fx.tls.bound, headers }),
    probe('no cert', noCert, { headers }),
    probe('other cert', otherCert, { certificate: fx.tls.other, headers }),
  ];
}

/** A bare framework: no authentication, so it only has to answer 200. */
function bareRow(fx, name, what) {
  const headers = { authorization: `Bearer ${fx.tokens.es256}` };
  return {
    name,
    server: 'bare',
    what,
    load: () => ({ certificate: fx.tls.bound, headers }),
    probes: async () => [probe('bound cert', 200, { certificate: fx.tls.bound, headers })],
  };
}

function certboundRow(fx, name, server, what, token = fx.tokens.es256) {
  const headers = { authorization: `Bearer ${token}` };
  return {
    name,
    server,
    what,
    load: () => ({ certificate: fx.tls.bound, headers }),
    probes: tlsProbes(fx, headers),
  };
}

function expressGroup(fx, config) {
  const bearer = { authorization: `Bearer ${fx.tokens.es256}` };
  const viaHeader = { ...bearer, 'client-cert': fx.clientCertHeader };
  const opaque = { authorization: `Bearer ${fx.tokens.opaque}` };
  const servers = {
    bare: { app: 'express' },
    certbound: { app: 'express', auth: { certbound: fx.certboundBase } },
    header: {
      app: 'express',
      auth: {
        certbound: {
          ...fx.certboundBase,
          certificate: { from: 'header', format: 'rfc9440', trustedProxies: ['127.0.0.1'] },
        },
      },
    },
    opaque: { app: 'express', auth: { certbound: { ...fx.certboundBase, introspection: fx.introspection } } },
    'peer-mtls': { app: 'express', auth: { peer: { ...fx.peerBase, mtls: true } } },
  };
  const rows = [
    bareRow(fx, 'express-bare', 'Express 5, no authentication (the token is sent and ignored)'),
    certboundRow(fx, 'express-certbound', 'certbound', 'Express + certbound(verifier), ES256 bound token'),
    {
      name: 'express-header',
      server: 'header',
      what: 'certbound, certificate from an RFC 9440 Client-Cert header (trusted proxy 127.0.0.1; TLS without client cert)',
      load: () => ({ headers: viaHeader }),
      probes: async () => [
        probe('header', 200, { headers: viaHeader }),
        probe('no header', 401, { headers: bearer }),
        probe('other cert in header', 401, {
          headers: { ...bearer, 'client-cert': fx.otherClientCertHeader },
        }),
      ],
    },
    {
      name: 'express-opaque',
      server: 'opaque',
      what: 'certbound, opaque token, RFC 7662 introspection cache warm',
      load: () => ({ certificate: fx.tls.bound, headers: opaque }),
      probes: tlsProbes(fx, opaque),
    },
    {
      name: 'peer-mtls',
      server: 'peer-mtls',
      what: 'express-oauth2-jwt-bearer 1.10 auth({ issuerBaseURL, mtls: { enabled, required }, getCertificate })',
      load: () => ({ certificate: fx.tls.bound, headers: bearer }),
      probes: tlsProbes(fx, bearer, { noCert: 'reject' }),
    },
  ];
  const ratios = [
    { of: 'express-certbound', vs: 'express-bare', min: 0.95 },
    { of: 'express-certbound', vs: 'peer-mtls', min: 2.5 },
    { of: 'express-header', vs: 'express-certbound', min: 0.97, note: 'proxy header vs TLS: within 3%' },
    {
      of: 'express-opaque',
      vs: 'express-certbound',
      min: 0.95,
      note: 'warm introspection vs JWT: within 5%',
    },
  ];
  if (config.peerUnbound) {
    servers.peer = { app: 'express', auth: { peer: fx.peerBase } };
    rows.push({
      name: 'peer-unbound',
      server: 'peer',
      what: 'the same peer without mtls: binding NOT checked (accepts the token without its certificate)',
      load: () => ({ certificate: fx.tls.bound, headers: bearer }),
      probes: tlsProbes(fx, bearer, { noCert: 'any', otherCert: 'any' }),
    });
    ratios.push({ of: 'peer-mtls', vs: 'peer-unbound', note: "what the peer's binding check costs it" });
  }
  if (config.rs256) {
    servers['peer-mtls-jwks'] = {
      app: 'express',
      auth: { peer: { ...fx.peerBase, jwksUri: fx.issuer.jwksUri, mtls: true } },
    };
    const rs256 = { authorization: `Bearer ${fx.tokens.rs256}` };
    rows.push(
      certboundRow(
        fx,
        'express-certbound-rs256',
        'certbound',
        'the certbound server, RS256 token',
        fx.tokens.rs256,
      ),
      {
        name: 'peer-mtls-rs256',
        server: 'peer-mtls-jwks',
        what: 'the peer with mtls, configured with issuer + jwksUri (any asymmetric alg), RS256 token',
        load: () => ({ certificate: fx.tls.bound, headers: rs256 }),
        probes: tlsProbes(fx, rs256, { noCert: 'reject' }),
      },
    );
    ratios.push({ of: 'express-certbound-rs256', vs: 'peer-mtls-rs256' });
  }
  return {
    name: 'express',
    title: 'Express: certbound vs bare Express and the peer; certificate source; token format',
    servers,
    rows,
    ratios,
  };
}

/** A framework beside itself with certbound in front. */
function adapterGroup(fx, name, title, app, what) {
  return {
    name,
    title,
    servers: { bare: { app }, certbound: { app, auth: { certbound: fx.certboundBase } } },
    rows: [
      bareRow(fx, `${name}-bare`, `${title}, no authentication`),
      certboundRow(fx, `${name}-certbound`, 'certbound', what),
    ],
    ratios: [{ of: `${name}-certbound`, vs: `${name}-bare`, min: 0.9 }],
  };
}

export const GROUP_NAMES = ['express', 'koa', 'fastify', 'nest-express', 'nest-fastify', 'rotation', 'dpop'];

/** The groups to run, in order, with their timing (rounds, seconds) filled in. */
export async function buildPlan(fx, config) {
  const wanted = config.groups ?? GROUP_NAMES;
  for (const name of wanted) {
    if (!GROUP_NAMES.includes(name))
      throw new Error(`BENCH_GROUPS: unknown group ${name} (${GROUP_NAMES.join(', ')})`);
  }
  const timing = { seconds: config.seconds, rounds: config.rounds, warmupSeconds: config.warmupSeconds };
  const make = {
    express: () => expressGroup(fx, config),
    koa: () => adapterGroup(fx, 'koa', 'Koa 3', 'koa', 'Koa + errorHandler() + certbound(verifier)'),
    fastify: () =>
      adapterGroup(
        fx,
        'fastify',
        'Fastify 5',
        'fastify',
        'Fastify + register(certbound, options) (onRequest hook)',
      ),
    'nest-express': () =>
      adapterGroup(
        fx,
        'nest-express',
        'Nest 12 on Express',
        'nest-express',
        'CertboundModule.forRoot + CertboundGuard as APP_GUARD',
      ),
    'nest-fastify': () =>
      adapterGroup(
        fx,
        'nest-fastify',
        'Nest 12 on Fastify',
        'nest-fastify',
        'CertboundModule.forRoot + CertboundGuard as APP_GUARD',
      ),
    rotation: async () => ({
      ...(await rotationGroup(fx, config)),
      seconds: config.rotationSeconds,
      rounds: config.rotationRounds,
    }),
    dpop: () => dpopGroup(fx),
  };
  const groups = [];
  for (const name of wanted) groups.push({ ...timing, ...(await make[name]()) });
  return groups;
}
