/**
 * The six targets of the conformance suite, each built the way its package README recommends,
 * each serving the same routes over real HTTPS that asks for (but does not verify) client
 * certificates (RFC 8705 §6.2):
 *
 * - `GET /resource`, `POST /resource` (form body): protected; answer with {@link describeAuth};
 * - `GET /scoped`: protected, requires scope `write`;
 * - `POST /payments` (form body): protected, requires {@link STEP_UP} (RFC 9470) through the
 *   target's step-up helper, answers 201 with {@link describeAuth};
 * - `GET /health`: public.
 *
 * Errors are answered with certbound's JSON body (`errorHandler()` of Express, Koa and Fastify;
 * the guard's `HttpException` in Nest).
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { AuthContextPolicy, AuthInfo, CertboundOptions } from '@certbound/core';
import * as express from '@certbound/express';
import * as fastifyAdapter from '@certbound/fastify';
import * as koaAdapter from '@certbound/koa';
import { Auth, AuthContext, CertboundGuard, CertboundModule, Public, Scopes } from '@certbound/nest';
import type { TestPki } from '@certbound/testing';
import fastifyAuth from '@fastify/auth';
import formbody from '@fastify/formbody';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Controller, Get, HttpCode, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import expressApp from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

export type TargetName = 'express' | 'koa' | 'fastify' | 'fastify-auth' | 'nest-express' | 'nest-fastify';

export interface Target {
  name: TargetName;
  start(options: CertboundOptions, pki: TestPki): Promise<RunningApp>;
}

/** What `POST /payments` requires of the user's authentication: `acr` mfa, at most 5 minutes ago. */
export const STEP_UP = { acr: ['mfa'], maxAgeSeconds: 300 } as const satisfies AuthContextPolicy;

/** What every protected route answers. */
export function describeAuth(auth: AuthInfo | undefined) {
  return {
    issuer: auth?.issuer,
    subject: auth?.subject,
    clientId: auth?.clientId,
    scopes: auth?.scopes,
    bound: auth?.bound,
    thumbprint: auth?.thumbprint ?? null,
    format: auth?.format,
    scheme: auth?.scheme,
    jkt: auth?.jkt ?? null,
  };
}

/** {@link STEP_UP} as the mutable policy the helpers take. */
const stepUp = (): AuthContextPolicy => ({ acr: [...STEP_UP.acr], maxAgeSeconds: STEP_UP.maxAgeSeconds });

const tlsOptions = (pki: TestPki) => ({
  cert: pki.server.cert,
  key: pki.server.key,
  requestCert: true,
  rejectUnauthorized: false,
});

const expressTarget: Target = {
  name: 'express',
  start(options, pki) {
    const app = expressApp();
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(expressApp.urlencoded({ extended: false }));
    app.use(express.certbound(options));
    app.get('/resource', (req, res) => {
      res.json(describeAuth(req.auth));
    });
    app.post('/resource', (req, res) => {
      res.json(describeAuth(req.auth));
    });
    app.get('/scoped', express.requireScopes('write'), (req, res) => {
      res.json(describeAuth(req.auth));
    });
    app.post('/payments', express.requireAuthContext(stepUp()), (req, res) => {
      res.status(201).json(describeAuth(req.auth));
    });
    app.use(express.errorHandler());
    return startHttpsApp(app, pki);
  },
};

const koaTarget: Target = {
  name: 'koa',
  start(options, pki) {
    const app = new Koa();
    const open = new Router();
    open.get('/health', (ctx) => {
      ctx.body = { ok: true };
    });
    const router = new Router();
    router.get('/resource', (ctx) => {
      ctx.body = describeAuth(ctx.state.auth);
    });
    router.post('/resource', (ctx) => {
      ctx.body = describeAuth(ctx.state.auth);
    });
    router.get('/scoped', koaAdapter.requireScopes('write'), (ctx) => {
      ctx.body = describeAuth(ctx.state.auth);
    });
    router.post('/payments', koaAdapter.requireAuthContext(stepUp()), (ctx) => {
      ctx.status = 201;
      ctx.body = describeAuth(ctx.state.auth);
    });
    app.use(koaAdapter.errorHandler());
    app.use(open.routes());
    app.use(bodyParser());
    app.use(koaAdapter.certbound(options));
    app.use(router.routes());
    return startHttpsApp(app.callback(), pki);
  },
};

const fastifyTarget: Target = {
  name: 'fastify',
  async start(options, pki) {
    const app = Fastify({ https: tlsOptions(pki) });
    app.setErrorHandler(fastifyAdapter.errorHandler());
    await app.register(formbody);
    await app.register(fastifyAdapter.certbound, options);
    app.get('/health', { config: { certbound: false } }, async () => ({ ok: true }));
    app.get('/resource', async (request) => describeAuth(request.auth));
    app.post('/resource', async (request) => describeAuth(request.auth));
    app.get('/scoped', { preHandler: fastifyAdapter.requireScopes('write') }, async (request) =>
      describeAuth(request.auth),
    );
    app.post(
      '/payments',
      { preHandler: fastifyAdapter.requireAuthContext(stepUp()) },
      async (request, reply) => reply.code(201).send(describeAuth(request.auth)),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    };
  },
};

/** Fastify with `hook: false`: `app.verifyCertbound` as an `@fastify/auth` strategy on each route. */
const fastifyAuthTarget: Target = {
  name: 'fastify-auth',
  async start(options, pki) {
    const app = Fastify({ https: tlsOptions(pki) });
    app.setErrorHandler(fastifyAdapter.errorHandler());
    await app.register(formbody);
    await app.register(fastifyAuth);
    await app.register(fastifyAdapter.certbound, { ...options, hook: false });
    const authenticated = { preHandler: app.auth([app.verifyCertbound]) };
    const scoped = app.auth([app.verifyCertbound, fastifyAdapter.requireScopes('write')], {
      relation: 'and',
    });
    const steppedUp = app.auth([app.verifyCertbound, fastifyAdapter.requireAuthContext(stepUp())], {
      relation: 'and',
    });
    app.get('/health', async () => ({ ok: true }));
    app.get('/resource', authenticated, async (request) => describeAuth(request.auth));
    app.post('/resource', authenticated, async (request) => describeAuth(request.auth));
    app.get('/scoped', { preHandler: scoped }, async (request) => describeAuth(request.auth));
    app.post('/payments', { preHandler: steppedUp }, async (request, reply) =>
      reply.code(201).send(describeAuth(request.auth)),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    };
  },
};

/** The routes both Nest targets serve (Nest controllers inherit their parent's routes). */
class ResourceRoutes {
  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }

  @Get('resource')
  read(@Auth() auth: AuthInfo) {
    return describeAuth(auth);
  }

  @HttpCode(200)
  @Post('resource')
  write(@Auth() auth: AuthInfo) {
    return describeAuth(auth);
  }

  @Scopes('write')
  @Get('scoped')
  scoped(@Auth() auth: AuthInfo) {
    return describeAuth(auth);
  }

  @AuthContext(stepUp())
  @Post('payments')
  pay(@Auth() auth: AuthInfo) {
    return describeAuth(auth);
  }
}

/** Nest on Express: `forRoot()` and the guard applied globally through `APP_GUARD`. */
function nestModuleWithGlobalGuard(options: CertboundOptions) {
  @Controller()
  class ResourceController extends ResourceRoutes {}

  @Module({
    imports: [CertboundModule.forRoot(options)],
    controllers: [ResourceController],
    providers: [{ provide: APP_GUARD, useClass: CertboundGuard }],
  })
  class AppModule {}
  return AppModule;
}

/** Nest on Fastify: `forRootAsync()` from a factory, and `@UseGuards()` on the controller. */
function nestModuleWithControllerGuard(options: CertboundOptions) {
  const SETTINGS = Symbol('settings');

  @UseGuards(CertboundGuard)
  @Controller()
  class ResourceController extends ResourceRoutes {}

  @Module({ providers: [{ provide: SETTINGS, useValue: options }], exports: [SETTINGS] })
  class SettingsModule {}

  @Module({
    imports: [
      CertboundModule.forRootAsync({
        imports: [SettingsModule],
        inject: [SETTINGS],
        useFactory: async (settings: CertboundOptions) => settings,
      }),
    ],
    controllers: [ResourceController],
  })
  class AppModule {}
  return AppModule;
}

async function listenNest(app: INestApplication): Promise<RunningApp> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return { url: `https://127.0.0.1:${address.port}`, close: () => app.close() };
}

const nestExpressTarget: Target = {
  name: 'nest-express',
  async start(options, pki) {
    const app = await NestFactory.create(nestModuleWithGlobalGuard(options), {
      httpsOptions: tlsOptions(pki),
      logger: false,
    });
    return listenNest(app);
  },
};

const nestFastifyTarget: Target = {
  name: 'nest-fastify',
  async start(options, pki) {
    const app = await NestFactory.create(
      nestModuleWithControllerGuard(options),
      new FastifyAdapter({ https: tlsOptions(pki) }),
      { logger: false },
    );
    return listenNest(app);
  },
};

export const TARGETS: readonly Target[] = [
  expressTarget,
  koaTarget,
  fastifyTarget,
  fastifyAuthTarget,
  nestExpressTarget,
  nestFastifyTarget,
];
