/**
 * `CertboundGuard`'s protected methods, overridden the way `@nestjs/throttler`'s guard is for
 * GraphQL: a resolver is run as `@nestjs/graphql` runs it (Nest's `ExternalContextCreator`, context
 * type `graphql`, the GraphQL context holding the platform's `req` and `res` as argument 2),
 * behind a real mutual-TLS request; the same subclass still guards plain HTTP routes.
 */
import 'reflect-metadata';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthInfo, type CertboundError, createVerifier } from '@certbound/core';
import { Auth, CertboundGuard, type CertboundGuardTarget, CertboundModule, Scopes } from '@certbound/nest';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import {
  Controller,
  type ExecutionContext,
  Get,
  type INestApplication,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import { ExternalContextCreator, NestFactory, Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengesOf } from '../../../test/support/challenge.js';

const REALM = 'nest';
const MISMATCH_DESCRIPTION = 'The access token is bound to another certificate';
const challenge = challengesOf({ realm: REALM });
const MISMATCH = challenge({ error: 'invalid_token', description: MISMATCH_DESCRIPTION });

/** What a GraphQL driver's `context: ({ req, res }) => ({ req, res })` gives resolvers. */
interface ResolverContext {
  req: IncomingMessage & { auth?: AuthInfo };
  res: ServerResponse;
}

/** A GraphQL-style error: the message, and `extensions` for machines. */
class ResolverError extends Error {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown>,
  ) {
    super(message);
  }
}

@Injectable()
class ResolverGuard extends CertboundGuard {
  protected override getRequestResponse(context: ExecutionContext): CertboundGuardTarget | undefined {
    if (context.getType<string>() !== 'graphql') return super.getRequestResponse(context);
    const { req, res } = context.getArgByIndex<ResolverContext>(2);
    return { req, res };
  }

  protected override setResponseHeader(response: unknown, name: string, value: string): void {
    (response as ServerResponse).setHeader(name, value);
  }

  protected override handleError(error: CertboundError, context: ExecutionContext, response: unknown): never {
    if (context.getType<string>() !== 'graphql') return super.handleError(error, context, response);
    for (const [name, value] of Object.entries(error.headers)) this.setResponseHeader(response, name, value);
    const code = error.status === 403 ? 'FORBIDDEN' : 'UNAUTHENTICATED';
    throw new ResolverError(error.message, { code, certbound: error.code });
  }
}

@UseGuards(ResolverGuard)
class AccountsResolver {
  @Scopes('read')
  me(_root: unknown, _args: unknown, context: ResolverContext) {
    return { subject: context.req.auth?.subject, bound: context.req.auth?.bound };
  }
}

@UseGuards(ResolverGuard)
@Controller('accounts')
class AccountsController {
  @Get()
  list(@Auth() auth: AuthInfo) {
    return { subject: auth.subject };
  }
}

let pki: TestPki;
let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let app: INestApplication;
let url: string;

function options() {
  return { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: REALM };
}

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
  clientB = await pki.issueClient({ subject: 'CN=client-a' });

  @Module({
    imports: [CertboundModule.forRoot(options())],
    controllers: [AccountsController],
    providers: [AccountsResolver],
  })
  class AppModule {}
  app = await NestFactory.create(AppModule, {
    httpsOptions: {
      cert: pki.server.cert,
      key: pki.server.key,
      requestCert: true,
      rejectUnauthorized: false,
    },
    logger: false,
  });
  let resolveMe: ((...args: unknown[]) => Promise<unknown>) | undefined;
  // A one-field GraphQL endpoint: the resolver runs with its guards in a `graphql` context.
  app.getHttpAdapter().get('/graphql', async (req: IncomingMessage, res: ServerResponse) => {
    if (!resolveMe) {
      const resolver = app.get(AccountsResolver);
      const options = { guards: true, interceptors: false, filters: false };
      resolveMe = app
        .get(ExternalContextCreator)
        .create(
          resolver,
          resolver.me as (...args: unknown[]) => unknown,
          'me',
          undefined,
          undefined,
          undefined,
          undefined,
          options,
          'graphql',
        );
    }
    const context: ResolverContext = { req, res };
    const payload = await resolveMe(undefined, {}, context, undefined).then(
      (me) => ({ data: { me } }),
      (error: ResolverError) => ({ errors: [{ message: error.message, extensions: error.extensions }] }),
    );
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(payload));
  });
  await app.listen(0, '127.0.0.1');
  url = `https://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  await issuer?.close();
});

const call = async (path: string, certificate: TestCertificate, scope?: string) =>
  httpsRequest(`${url}${path}`, {
    ca: pki.ca.cert,
    certificate,
    headers: { authorization: `Bearer ${await issuer.mintAccessToken({ certificate: clientA, scope })}` },
  });

describe('CertboundGuard subclasses', () => {
  it('authenticate a GraphQL-style resolver through the request of its context', async () => {
    const response = await call('/graphql', clientA, 'read');
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ data: { me: { subject: 'client-a', bound: true } } });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('map refusals their own way, with the challenge still on the response', async () => {
    const stolen = await call('/graphql', clientB, 'read');
    expect(stolen.status).toBe(200);
    expect(stolen.headers['www-authenticate']).toBe(MISMATCH);
    expect(stolen.json).toEqual({
      errors: [
        {
          message: MISMATCH_DESCRIPTION,
          extensions: { code: 'UNAUTHENTICATED', certbound: 'cnf_mismatch' },
        },
      ],
    });

    const unscoped = await call('/graphql', clientA, 'write');
    expect(unscoped.headers['www-authenticate']).toBe(
      challenge({
        error: 'insufficient_scope',
        description: 'The access token lacks the required scope',
        scope: 'read',
      }),
    );
    expect(unscoped.json).toEqual({
      errors: [
        {
          message: 'The access token lacks the required scope',
          extensions: { code: 'FORBIDDEN', certbound: 'insufficient_scope' },
        },
      ],
    });
  });

  it('keep the HTTP behaviour of the guard they extend', async () => {
    const accepted = await call('/accounts', clientA);
    expect(accepted.status).toBe(200);
    expect(accepted.json).toEqual({ subject: 'client-a' });
    expect(accepted.headers['cache-control']).toBe('no-store');

    const stolen = await call('/accounts', clientB);
    expect(stolen.status).toBe(401);
    expect(stolen.headers['www-authenticate']).toBe(MISMATCH);
    expect(stolen.json).toEqual({
      error: 'invalid_token',
      error_description: MISMATCH_DESCRIPTION,
      code: 'cnf_mismatch',
    });
  });

  it('fail closed when an override of handleError returns instead of throwing', async () => {
    class ReturningGuard extends CertboundGuard {
      protected override handleError(): never {
        return undefined as never;
      }
    }
    const verifier = createVerifier(options());
    const headers: Record<string, string> = {};
    const adapterHost = {
      httpAdapter: { setHeader: (_res: unknown, name: string, value: string) => (headers[name] = value) },
    };
    const guard = new ReturningGuard(verifier, new Reflector(), adapterHost as never);
    const request = { headers: {}, url: '/accounts', method: 'GET' };
    const context = new ExecutionContextHost(
      [request, {}],
      AccountsController,
      AccountsController.prototype.list,
    );
    // canActivate may refuse without a promise (a synchronous throw), as Nest allows.
    expect(() => guard.canActivate(context)).toThrow(
      expect.objectContaining({
        status: 401,
        code: 'credentials_missing',
      }),
    );
    await expect(Promise.resolve().then(() => guard.canActivate(context))).rejects.toMatchObject({
      status: 401,
      code: 'credentials_missing',
    });
    expect(headers).toEqual({});
    await verifier.close();
  });
});
