// Nest in plain JavaScript: the decorators are applied as the functions they are, which is what
// `tsc` compiles `@Controller()`, `@Get('me')` and `@Auth()` to. `node nest.cjs express|fastify`.
require('reflect-metadata');
const { basename } = require('node:path');
const { Controller, Get, Module } = require('@nestjs/common');
const { APP_GUARD, NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { Auth, CertboundGuard, CertboundModule } = require('@certbound/nest');
const { listening, options, tls } = require('./settings.cjs');

const platform = process.argv[2];

class AccountsController {
  me(auth) {
    return {
      program: `${basename(__filename)} on ${platform}`,
      subject: auth.subject,
      thumbprint: auth.thumbprint,
    };
  }
}
Controller()(AccountsController);
Get('me')(
  AccountsController.prototype,
  'me',
  Object.getOwnPropertyDescriptor(AccountsController.prototype, 'me'),
);
Auth()(AccountsController.prototype, 'me', 0);

class AppModule {}
Module({
  imports: [CertboundModule.forRoot(options)],
  controllers: [AccountsController],
  providers: [{ provide: APP_GUARD, useClass: CertboundGuard }],
})(AppModule);

async function main() {
  // RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
  const https = { ...tls, requestCert: true, rejectUnauthorized: false };
  const app =
    platform === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter({ https }), { logger: false })
      : await NestFactory.create(AppModule, { httpsOptions: https, logger: false });
  await app.listen(0, '127.0.0.1');
  listening(app.getHttpServer().address().port);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
