/**
 * Memory per entry of the introspection cache: fills an IntrospectionCache with 100,000 entries
 * (realistic oidc-provider-like responses with cnf, scope, aud) and reports the heap delta.
 *   node --expose-gc --import tsx bench/introspection-cache-memory.ts
 */
import { randomBytes } from 'node:crypto';
import { validateIntrospection } from '../packages/core/src/introspection.js';
import { IntrospectionCache } from '../packages/core/src/introspection-cache.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const ISSUER = 'https://as.example.com';
const rules = { issuer: ISSUER, audience: ['https://api.example.com'] };
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function response(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    active: true,
    client_id: `client-${randomBytes(4).toString('hex')}`,
    exp: now + 3600,
    iat: now,
    iss: ISSUER,
    aud: 'https://api.example.com',
    scope: 'accounts:read payments:write',
    token_type: 'Bearer',
    cnf: { 'x5t#S256': randomBytes(32).toString('base64url') },
  };
}

const tokens = Array.from({ length: ENTRIES }, () => randomBytes(32).toString('base64url'));
const respond = async () => response();
await respond();

gc();
gc();
const before = process.memoryUsage().heapUsed;
// The cache is created after the first reading: its preallocated arrays count too.
const cache = new IntrospectionCache(
  { max: ENTRIES, maxTtlSeconds: 3600, negativeTtlSeconds: 10, store: undefined },
  ISSUER,
  { introspect: respond, validate: (r) => validateIntrospection(r, rules) },
);
for (const token of tokens) await cache.get(token);
gc();
gc();
const after = process.memoryUsage().heapUsed;
// Keep both alive until after the reading.
if (tokens.length === 0 || (await cache.get(tokens[0]!)) === undefined) throw new Error('unreachable');
const perEntry = (after - before) / ENTRIES;
console.log(
  `introspection cache: ${ENTRIES} entries, heap delta ${((after - before) / 1024 / 1024).toFixed(1)} MiB, ` +
    `${Math.round(perEntry)} bytes per entry (response with cnf, scope, aud; key = namespaced SHA-256)`,
);
