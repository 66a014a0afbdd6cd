// Micro-benchmarks in this process, after every server is stopped: what one ES256 signature
// verification costs (the price of a token not seen before), and the verifier's own paths.
import { createPublicKey, verify as cryptoVerify, webcrypto, X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createVerifier } from '@certbound/core';
import { authenticateNow } from '@certbound/core/adapter';

/** Sequential awaits for `seconds`: wall µs and CPU µs (all threads of this process) per call. */
async function micro(name, seconds, fn) {
  const batch = 32;
  const warmEnd = performance.now() + Math.min(500, seconds * 250);
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) await fn();
  let ops = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) await fn();
    ops += batch;
  }
  const wallUs = (performance.now() - start) * 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    name,
    ops,
    wallUsPerOp: wallUs / ops,
    cpuUsPerOp: (cpu.user + cpu.system) / ops,
    opsPerSec: (ops * 1e6) / wallUs,
  };
}

export async function runMicro(fx, seconds) {
  const token = fx.tokens.es256;
  const [signedHeader, signedPayload, signature] = token.split('.');
  const data = Buffer.from(`${signedHeader}.${signedPayload}`);
  const sig = Buffer.from(signature, 'base64url');
  const kid = JSON.parse(Buffer.from(signedHeader, 'base64url').toString()).kid;
  const jwk = fx.issuer.jwks.keys.find((k) => k.kid === kid);
  const subtleKey = await webcrypto.subtle.importKey(
    'jwk',
    jwk,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };

  const options = { issuer: fx.issuer.issuer, audience: fx.issuer.audience, tls: { ca: fx.issuer.ca } };
  const cached = createVerifier(options);
  const uncached = createVerifier({ ...options, tokenCache: false });
  try {
    const x509 = new X509Certificate(fx.client.der);
    const authorization = `Bearer ${token}`;
    // A request as the TLS certificate source sees it: same socket object and Finished message
    // every time, so the per-connection thumbprint memo applies, as in a server.
    const finished = Buffer.alloc(12, 7);
    const socket = { getPeerX509Certificate: () => x509, getFinished: () => finished };
    const request = { method: 'GET', url: '/', rawHeaders: ['Authorization', authorization], socket };
    for (const v of [cached, uncached]) await v.verify({ authorization, certificate: x509 }); // discovery + JWKS

    const results = [
      await micro('ES256 signature verification, WebCrypto subtle.verify (as jose does)', seconds, () =>
        webcrypto.subtle.verify(ecdsa, subtleKey, sig, data),
      ),
      await micro('ES256 signature verification, node:crypto verify (sync)', seconds, async () =>
        cryptoVerify('sha256', data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, sig),
      ),
      await micro('verifier.verify(), tokenCache: false (full validation)', seconds, () =>
        uncached.verify({ authorization, certificate: x509 }),
      ),
      await micro('verifier.verify(), token memo warm', seconds, () =>
        cached.verify({ authorization, certificate: x509 }),
      ),
      await micro('verifier.authenticate(req), token memo warm, per-connection cert memo', seconds, () =>
        cached.authenticate(request),
      ),
      // What the adapters call: the same decision, without a promise when none is needed.
      await micro("authenticateNow(verifier, req) (the adapters' entry point), the same", seconds, () =>
        authenticateNow(cached, request),
      ),
    ];
    return results;
  } finally {
    await Promise.allSettled([cached.close(), uncached.close()]);
  }
}
