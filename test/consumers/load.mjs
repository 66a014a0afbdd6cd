// An ESM consumer: import every package's built output and report what it exports.
const packages = [
  'core',
  'core/adapter',
  'express',
  'koa',
  'fastify',
  'nest',
  'testing',
  'cli',
  'client-auth',
];
const report = {};
for (const name of packages) {
  const exported = await import(`@certbound/${name}`);
  report[name] = Object.keys(exported)
    .filter((key) => key !== 'default')
    .sort();
}
const { InvalidTokenError } = await import('@certbound/express');
const { isCertboundError } = await import('@certbound/core');
report.crossPackageError = isCertboundError(new InvalidTokenError('cnf_mismatch'));
process.stdout.write(JSON.stringify(report));
