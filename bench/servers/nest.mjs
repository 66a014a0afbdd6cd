// Nest 12 servers on @nestjs/platform-express or @nestjs/platform-fastify, bare or with
// `CertboundModule.forRoot(options)` and `CertboundGuard` as APP_GUARD. Plain JavaScript: the
// decorators are applied as functions, as TypeScript's legacy decorators would be. The guard and
// the module inject by explicit tokens, so no `design:paramtypes` metadata is needed.
import 'reflect-metadata';
import { workspacePackage } from '../lib/workspace.mjs';

export async function buildNest(app, auth, respond, tls) {
  const { Controller, Get, Module } = await import('@nestjs/common');
  const { APP_GUARD, NestFactory } = await import('@nestjs/core');

  class BenchController {
    get() {
      return respond();
    }
  }
  Controller()(BenchController);
  Get()(BenchController.prototype, 'get', Object.getOwnPropertyDescriptor(BenchController.prototype, 'get'));

  const imports = [];
  const providers = [];
  if (auth?.certbound) {
    const { CertboundGuard, CertboundModule } = await workspacePackage('nest');
    imports.push(CertboundModule.forRoot(auth.certbound)); // its verifier closes with the app
    providers.push({ provide: APP_GUARD, useClass: CertboundGuard });
  }
  class AppModule {}
  Module({ imports, controllers: [BenchController], providers })(AppModule);

  let nest;
  if (app === 'nest-fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    nest = await NestFactory.create(AppModule, new FastifyAdapter({ https: tls, keepAliveTimeout: 60_000 }), {
      logger: false,
    });
  } else {
    nest = await NestFactory.create(AppModule, { logger: false, httpsOptions: tls });
  }
  await nest.listen(0, '127.0.0.1');
  const server = nest.getHttpServer();
  if (app === 'nest-express') server.keepAliveTimeout = 60_000;
  return { port: server.address().port, close: () => nest.close() };
}
