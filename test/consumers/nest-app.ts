/**
 * A Nest app as users write it, compiled by `tsc` to CommonJS (Nest's default) and to ESM by the
 * consumers test, then run with node. Configuration comes from the environment; it prints
 * `{"port":N}` once listening and stops on SIGTERM.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Auth, type AuthInfo, CertboundGuard, CertboundModule, Public, Scopes } from '@certbound/nest';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

@Controller()
class AccountsController {
  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }

  @Scopes('accounts:read')
  @Get('me')
  me(@Auth() auth: AuthInfo) {
    return {
      subject: auth.subject,
      bound: auth.bound,
      format: typeof module === 'undefined' ? 'esm' : 'cjs',
    };
  }
}

@Module({
  imports: [
    CertboundModule.forRootAsync({
      useFactory: () => ({
        issuer: env('ISSUER'),
        audience: env('AUDIENCE'),
        tls: { ca: readFileSync(env('ISSUER_CA_FILE'), 'utf8') },
      }),
    }),
  ],
  controllers: [AccountsController],
  providers: [{ provide: APP_GUARD, useClass: CertboundGuard }],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, {
    logger: false,
    httpsOptions: {
      cert: readFileSync(env('TLS_CERT_FILE')),
      key: readFileSync(env('TLS_KEY_FILE')),
      requestCert: true,
      rejectUnauthorized: false,
    },
  });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ port: (app.getHttpServer().address() as AddressInfo).port })}\n`);
}

void main();
