// Nest in plain JavaScript: the decorators are applied as the functions they are, which is what
// `tsc` compiles `@Controller()`, `@Get('me')` and `@Auth()` to. `node nest.mjs express|fastify`.
import 'reflect-metadata';
import { basename } from 'node:path';
import { Auth, CertboundGuard, CertboundModule } from '@certbound/nest';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { listening, options, tls } from './settings.cjs';

const platform = process.argv[2];

class AccountsController {
  me(auth) {
    return {
      program: `${basename(import.meta.filename)} on ${platform}`,
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

// RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
const https = { ...tls, requestCert: true, rejectUnauthorized: false };
const app =
  platform === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter({ https }), { logger: false })
    : await NestFactory.create(AppModule, { httpsOptions: https, logger: false });
await app.listen(0, '127.0.0.1');
listening(app.getHttpServer().address().port);
