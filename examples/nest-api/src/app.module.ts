/**
 * The application module: configuration through @nestjs/config, certbound's module built from it,
 * and `CertboundGuard` on every route (`APP_GUARD`). On failure the guard itself sets
 * `WWW-Authenticate` (RFC 6750 §3) and answers `{ error, error_description, code }`.
 * Every injection is explicit (`inject`, `useClass`): nothing relies on decorator metadata.
 */
import { CertboundGuard, CertboundModule, type CertboundOptions } from '@certbound/nest';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ApiController } from './api.controller.js';
import { loadConfig } from './config.js';

@Module({
  imports: [
    // The environment variables are the whole configuration (no .env file), checked by loadConfig.
    ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => loadConfig()] }),
    CertboundModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => config.getOrThrow<CertboundOptions>('certbound'),
    }),
  ],
  controllers: [ApiController],
  providers: [{ provide: APP_GUARD, useClass: CertboundGuard }],
})
export class AppModule {}
