// Benchmark settings from the environment. Every variable is optional; bench/README.md lists them.

function numberEnv(name, fallback, { min, max, integer = false }) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${raw}`);
  }
  return value;
}

function listEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function loadConfig() {
  const seconds = numberEnv('BENCH_SECONDS', 2, { min: 0.5, max: 600 });
  return {
    /** Measured seconds per row and round. */
    seconds,
    rounds: numberEnv('BENCH_ROUNDS', 4, { min: 1, max: 20, integer: true }),
    warmupSeconds: numberEnv('BENCH_WARMUP_SECONDS', 1.5, { min: 0, max: 60 }),
    /** The rotation curve and the new-token row: shorter rounds, fewer of them. */
    rotationSeconds: numberEnv('BENCH_ROTATION_SECONDS', Math.min(seconds, 2), { min: 0.5, max: 600 }),
    rotationRounds: numberEnv('BENCH_ROTATION_ROUNDS', 2, { min: 1, max: 20, integer: true }),
    rotationSizes: listEnv('BENCH_ROTATION', ['1', '100', '10000', '100000']).map((n) => {
      const value = Number(n);
      if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
        throw new Error(`BENCH_ROTATION: ${n} is not an integer in [1, 1000000]`);
      }
      return value;
    }),
    connections: numberEnv('BENCH_CONNECTIONS', 10, { min: 1, max: 256, integer: true }),
    microSeconds: numberEnv('BENCH_MICRO_SECONDS', 1, { min: 0.2, max: 60 }),
    /** Which groups run (all by default): express,koa,fastify,nest-express,nest-fastify,rotation,dpop. */
    groups: listEnv('BENCH_GROUPS', undefined),
    /** Extra rows: the peer without its mTLS binding, RS256 tokens. */
    peerUnbound: process.env.BENCH_PEER_UNBOUND !== '0',
    rs256: process.env.BENCH_RS256 === '1',
    /** Pin servers to one core and the load generator to the other (needs taskset and ≥ 2 cores). */
    pin: process.env.BENCH_PIN !== '0',
    profileSeconds: numberEnv('BENCH_PROFILE_SECONDS', 10, { min: 1, max: 600 }),
  };
}
