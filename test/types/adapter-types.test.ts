/**
 * Type tests, checked by `tsc` in the README's test command (`pnpm typecheck`): each adapter types
 * what handlers read (`req.auth`, `ctx.state.auth`, `request.auth`, `@Auth()`).
 */
import type { AuthInfo } from '@certbound/core';
import type {} from '@certbound/express';
import { certbound as fastifyCertbound, requireScopes as fastifyScopes } from '@certbound/fastify';
import { certbound as koaCertbound } from '@certbound/koa';
import { Auth } from '@certbound/nest';
import type { Request } from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import Koa from 'koa';
import { describe, expectTypeOf, it } from 'vitest';

describe('adapter request types', () => {
  it('types req.auth on Express requests', () => {
    expectTypeOf<Request['auth']>().toEqualTypeOf<AuthInfo | undefined>();
    expectTypeOf<NonNullable<Request['auth']>['scopes']>().toEqualTypeOf<string[]>();
    // @ts-expect-error req.auth may be absent (a route mounted before certbound())
    const subjectOf = (req: Request): string => req.auth.subject;
    expectTypeOf(subjectOf).toBeFunction();
  });

  it('types ctx.state.auth in Koa middleware', () => {
    const app = new Koa();
    app.use(koaCertbound({ issuer: 'https://as.example.com', audience: 'https://api.example.com' }));
    app.use((ctx) => {
      expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthInfo | undefined>();
      expectTypeOf(ctx.state.auth!.expiresAt).toEqualTypeOf<Date | undefined>();
    });
  });

  it('types request.auth and the route opt-out on Fastify, for HTTP/1.1 and HTTP/2 instances', () => {
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AuthInfo | undefined>();
    const app = Fastify();
    void app.register(fastifyCertbound, {
      issuer: 'https://as.example.com',
      audience: 'https://api.example.com',
    });
    app.get('/health', { config: { certbound: false } }, async () => ({ ok: true }));
    app.get('/me', { preHandler: fastifyScopes('read') }, async (request) => {
      expectTypeOf(request.auth).toEqualTypeOf<AuthInfo | undefined>();
      return request.auth?.thumbprint;
    });
    const h2 = Fastify({ http2: true });
    h2.get('/me', { preHandler: fastifyScopes('read') }, async (request) => request.auth?.bound);
    // @ts-expect-error the opt-out is a boolean
    app.get('/typo', { config: { certbound: 'no' } }, async () => null);
  });

  it('types hook: false and app.verifyCertbound as a route hook, for HTTP/1.1 and HTTP/2 instances', () => {
    // Type-checked only: app.verifyCertbound exists at run time once the plugin has loaded.
    const wire = async () => {
      const app = Fastify();
      await app.register(fastifyCertbound, {
        issuer: 'https://as.example.com',
        audience: 'https://api.example.com',
        hook: false,
      });
      app.get('/me', { onRequest: app.verifyCertbound }, async (request) => request.auth?.subject);
      const h2 = Fastify({ http2: true });
      h2.get(
        '/me',
        { preHandler: [h2.verifyCertbound, fastifyScopes('read')] },
        async (request) => request.auth?.bound,
      );
      await h2.register(fastifyCertbound, {
        issuer: 'https://as.example.com',
        audience: 'https://api.example.com',
        // @ts-expect-error hook is a boolean
        hook: 'no',
      });
    };
    expectTypeOf(wire).toBeFunction();
    expectTypeOf<FastifyInstance['verifyCertbound']>().returns.resolves.toBeVoid();
  });

  it('types @Auth() as a parameter decorator for an AuthInfo parameter', () => {
    expectTypeOf(Auth).returns.toEqualTypeOf<ParameterDecorator>();
    expectTypeOf<AuthInfo['bound']>().toEqualTypeOf<boolean>();
  });
});
