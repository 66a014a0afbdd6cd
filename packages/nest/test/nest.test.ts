import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { type AuthInfo, createVerifier, type Verifier } from '@certbound/core';
import {
  Auth,
  CERTBOUND_VERIFIER,
  CertboundGuard,
  CertboundModule,
  type CertboundModuleOptions,
  Scopes,
} from '@certbound/nest';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { Controller, Get, type INestApplication, Module, UseGuards } from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { challenge } from '../../../test/support/challenge.js';

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;

function options() {
  return { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: 'nest' };
}

@Scopes('read')
@UseGuards(CertboundGuard)
@Controller('accounts')
class AccountsController {
  @Get()
  list(@Auth() auth: AuthInfo) {
    return { subject: auth.subject };
  }

  @Scopes('write')
  @Get('transfer')
  transfer() {
    return { ok: true };
  }
}

/** A feature module that does not import CertboundModule: the guard resolves because it is global. */
@Module({ controllers: [AccountsController] })
class AccountsModule {}

function appModule(moduleOptions: CertboundModuleOptions) {
  @Module({ imports: [CertboundModule.forRoot(moduleOptions), AccountsModule] })
  class AppModule {}
  return AppModule;
}

async function start(moduleOptions: CertboundModuleOptions): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(appModule(moduleOptions), {
    httpsOptions: {
      cert: pki.server.cert,
      key: pki.server.key,
      requestCert: true,
      rejectUnauthorized: false,
    },
    logger: false,
    abortOnError: false,
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: `https://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
});

afterAll(async () => {
  await issuer?.close();
});

describe('@certbound/nest', () => {
  it('requires the scopes of the controller and of the handler, in a feature module', async () => {
    const { app, url } = await start(options());
    try {
      const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'read' });
      const request = (path: string) =>
        httpsRequest(`${url}${path}`, {
          ca: pki.ca.cert,
          certificate: clientA,
          headers: { authorization: `Bearer ${token}` },
        });
      const list = await request('/accounts');
      expect(list.status).toBe(200);
      expect(list.json).toEqual({ subject: 'client-a' });

      const transfer = await request('/accounts/transfer');
      expect(transfer.status).toBe(403);
      expect(transfer.headers['www-authenticate']).toBe(
        challenge(
          { realm: 'nest' },
          {
            error: 'insufficient_scope',
            description: 'The access token lacks the required scope',
            scope: 'write read',
          },
        ),
      );
      expect(transfer.json).toEqual({
        error: 'insufficient_scope',
        error_description: 'The access token lacks the required scope',
        code: 'insufficient_scope',
      });
    } finally {
      await app.close();
    }
  });

  it('reads the scopes of each controller: a subclass inheriting a handler has its own class scopes', async () => {
    @Scopes('payments')
    @UseGuards(CertboundGuard)
    @Controller('payments')
    class PaymentsController extends AccountsController {}
    @Module({
      imports: [CertboundModule.forRoot(options())],
      controllers: [AccountsController, PaymentsController],
    })
    class InheritingModule {}
    const app = await NestFactory.create(InheritingModule, {
      httpsOptions: {
        cert: pki.server.cert,
        key: pki.server.key,
        requestCert: true,
        rejectUnauthorized: false,
      },
      logger: false,
      abortOnError: false,
    });
    await app.listen(0, '127.0.0.1');
    const url = `https://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      const [read, payments] = await Promise.all([
        issuer.mintAccessToken({ certificate: clientA, scope: 'read' }),
        issuer.mintAccessToken({ certificate: clientA, scope: 'payments' }),
      ]);
      const status = async (path: string, token: string) =>
        (
          await httpsRequest(`${url}${path}`, {
            ca: pki.ca.cert,
            certificate: clientA,
            headers: { authorization: `Bearer ${token}` },
          })
        ).status;
      const outcomes = [];
      for (let round = 0; round < 2; round++) {
        outcomes.push(
          await status('/accounts', read),
          await status('/payments', read),
          await status('/payments', payments),
          await status('/accounts', payments),
        );
      }
      expect(outcomes).toEqual([200, 403, 200, 403, 200, 403, 200, 403]);
    } finally {
      await app.close();
    }
  });

  it('closes the verifier it created when the app closes, and exposes it for injection', async () => {
    const { app } = await start(options());
    const verifier = app.get<Verifier>(CERTBOUND_VERIFIER);
    const close = vi.spyOn(verifier, 'close');
    await app.close();
    expect(close).toHaveBeenCalledOnce();
  });

  it('leaves open a verifier passed in', async () => {
    const verifier = createVerifier(options());
    const close = vi.spyOn(verifier, 'close');
    const { app } = await start({ verifier });
    expect(app.get(CERTBOUND_VERIFIER)).toBe(verifier);
    await app.close();
    expect(close).not.toHaveBeenCalled();
    await verifier.close();
  });

  it('throws at start-up for invalid options, naming the option', async () => {
    expect(() => CertboundModule.forRoot({ ...options(), bindng: 'required' } as never)).toThrow(/bindng/);
    expect(() => Scopes('has space')).toThrow(TypeError);
    // forRootAsync options arrive later: app creation fails with the same message.
    @Module({
      imports: [
        CertboundModule.forRootAsync({ useFactory: () => ({ ...options(), bindng: 'required' }) as never }),
      ],
    })
    class AsyncModule {}
    await expect(NestFactory.create(AsyncModule, { logger: false, abortOnError: false })).rejects.toThrow(
      /bindng/,
    );
  });

  it('accepts isGlobal: false next to the options', async () => {
    @Module({
      imports: [CertboundModule.forRoot({ ...options(), isGlobal: false })],
      controllers: [],
    })
    class LocalModule {}
    const app = await NestFactory.create(LocalModule, { logger: false, abortOnError: false });
    expect(app.get(CERTBOUND_VERIFIER)).toBeDefined();
    await app.close();
  });

  it('refuses non-HTTP contexts (a global guard also sees microservice handlers)', async () => {
    const verifier = createVerifier(options());
    const authenticate = vi.spyOn(verifier, 'authenticate');
    // What the guard calls (`authenticateNow` of @certbound/core/adapter).
    const authenticateNow = vi.spyOn(
      verifier as unknown as Record<symbol, () => unknown>,
      Symbol.for('certbound.authenticateNow'),
    );
    const guard = new CertboundGuard(verifier, new Reflector(), { httpAdapter: {} } as never);
    const rpc = { getType: () => 'rpc' } as never;
    expect(guard.canActivate(rpc)).toBe(false);
    expect(authenticate).not.toHaveBeenCalled();
    expect(authenticateNow).not.toHaveBeenCalled();
    await verifier.close();
  });

  it.each(['express', 'fastify'] as const)(
    'serves the RFC 9728 document at its own path despite a global prefix and a global guard (%s)',
    async (platform) => {
      @Module({
        imports: [
          CertboundModule.forRoot({
            ...options(),
            protectedResource: { resource: 'https://api.example.com/payments', resourceName: 'Payments' },
          }),
          AccountsModule,
        ],
        providers: [{ provide: APP_GUARD, useClass: CertboundGuard }],
      })
      class PrefixedModule {}
      const httpsOptions = {
        cert: pki.server.cert,
        key: pki.server.key,
        requestCert: true,
        rejectUnauthorized: false,
      };
      const app =
        platform === 'express'
          ? await NestFactory.create(PrefixedModule, { httpsOptions, logger: false })
          : await NestFactory.create(PrefixedModule, new FastifyAdapter({ https: httpsOptions }), {
              logger: false,
            });
      app.setGlobalPrefix('api');
      await app.listen(0, '127.0.0.1');
      try {
        const url = `https://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
        const path = '/.well-known/oauth-protected-resource/payments';
        const document = await httpsRequest(`${url}${path}`, { ca: pki.ca.cert });
        expect(document.status).toBe(200);
        expect(document.headers['cache-control']).toBe('public, max-age=3600');
        expect(document.json).toEqual({
          resource: 'https://api.example.com/payments',
          authorization_servers: [issuer.issuer],
          bearer_methods_supported: ['header'],
          tls_client_certificate_bound_access_tokens: true,
          dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
          dpop_bound_access_tokens_required: false,
          resource_name: 'Payments',
        });
        const head = await httpsRequest(`${url}${path}`, { method: 'HEAD', ca: pki.ca.cert });
        expect(head.status).toBe(200);
        expect(head.body).toBe('');
        const challenged = await httpsRequest(`${url}/api/accounts`, { ca: pki.ca.cert });
        expect(challenged.status).toBe(401);
        expect(challenged.headers['www-authenticate']).toBe(
          challenge({ realm: 'nest', resourceMetadata: `https://api.example.com${path}` }),
        );
      } finally {
        await app.close();
      }
    },
  );
});
