// Figures for the hardening work, in process (node bench/hardening.mjs after pnpm build):
//  - CPU per forged token without `kid` against a JWK Set of 64 ES256 keys (first time, replayed);
//  - heap held by the validated-token memo after 10,000 distinct valid tokens with 8 KB of claims.
import { randomUUID } from 'node:crypto';
import { createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki } from '@certbound/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const pki = await createTestPki();
const issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
const client = await pki.issueClient({ subject: 'CN=client-a' });

const keys = [];
for (let i = 0; i < 64; i++) {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  keys.push({ ...(await exportJWK(publicKey)), alg: 'ES256', kid: `k${i}` });
}
const forgedVerifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: { keys } });
const attacker = await generateKeyPair('ES256');
const forge = () =>
  new SignJWT({ sub: 'm', client_id: 'm', jti: randomUUID(), cnf: { 'x5t#S256': client.thumbprint } })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
    .setIssuer(issuer.issuer)
    .setAudience(issuer.audience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(attacker.privateKey);
const forged = await Promise.all(Array.from({ length: 200 }, forge));
const cpu = async (tokens) => {
  const start = process.cpuUsage();
  for (const token of tokens) {
    await forgedVerifier
      .verify({ authorization: `Bearer ${token}`, certificate: client.cert })
      .catch(() => undefined);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / tokens.length;
};
await cpu(forged.slice(0, 20)); // warm-up
const first = await cpu(forged.slice(20));
const replayed = await cpu(forged.slice(20));
console.log(
  `forged token without kid, 64 ES256 keys: ${first.toFixed(3)} ms CPU each; replayed: ${replayed.toFixed(3)} ms`,
);

const memoVerifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks });
const large = 'x'.repeat(8 * 1024);
global.gc?.();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 10_000; i++) {
  const token = await issuer.mintAccessToken({ certificate: client, claims: { profile: large } });
  await memoVerifier.verify({ authorization: `Bearer ${token}`, certificate: client.cert });
}
global.gc?.();
const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
console.log(
  `heap held after 10,000 distinct tokens with 8 KB of claims: ${grown.toFixed(1)} MiB (memo bound 32 MiB)`,
);
await Promise.all([forgedVerifier.close(), memoVerifier.close(), issuer.close()]);
