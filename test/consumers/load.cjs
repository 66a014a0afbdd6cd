// A CommonJS consumer: require() every package's built output and report what it exports.
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
  const exported = require(`@certbound/${name}`);
  report[name] = Object.keys(exported).sort();
}
// Errors from one package are recognised by another (one brand, whatever the copy).
const { InvalidTokenError } = require('@certbound/express');
report.crossPackageError = require('@certbound/core').isCertboundError(new InvalidTokenError('cnf_mismatch'));
process.stdout.write(JSON.stringify(report));
