/**
 * `CertboundModule.forRoot(options)` / `forRootAsync({ useFactory, inject, imports })`: one
 * verifier for the app, and `CertboundGuard` to apply per controller or globally (`APP_GUARD`).
 */
import {
  assertVerifierSource,
  type CertboundOptions,
  createsVerifier,
  resolveVerifier,
  type Verifier,
} from '@certbound/core';
import {
  ConfigurableModuleBuilder,
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CertboundGuard } from './guard.js';
import { ProtectedResourceMetadataMiddleware } from './metadata-middleware.js';
import { CERTBOUND_VERIFIER } from './tokens.js';

/** Verifier options, or `{ verifier }`: one you created (and close) yourself. */
export type CertboundModuleOptions = CertboundOptions | { verifier: Verifier };

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<CertboundModuleOptions>({ moduleName: 'Certbound' })
    .setClassMethodName('forRoot')
    // Global by default: one verifier per app, and the guard usable in every feature module.
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

/** The options token (for tests that override the module's options). */
export const CERTBOUND_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;

@Module({
  providers: [
    {
      provide: CERTBOUND_VERIFIER,
      useFactory: (options: CertboundModuleOptions) => resolveVerifier(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
    CertboundGuard,
  ],
  exports: [CERTBOUND_VERIFIER, CertboundGuard],
})
export class CertboundModule extends ConfigurableModuleClass implements NestModule, OnApplicationShutdown {
  constructor(
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: CertboundModuleOptions,
    @Inject(CERTBOUND_VERIFIER) private readonly verifier: Verifier,
  ) {
    super();
  }

  /** Validates `options` now (a bad option throws a TypeError naming it), then builds the module. */
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    const { isGlobal: _isGlobal, ...source } = options;
    assertVerifierSource(source as CertboundModuleOptions);
    // biome-ignore lint/complexity/noThisInStatic: the builder's forRoot must see this class as `module`.
    return super.forRoot(options);
  }

  /** Serves the RFC 9728 metadata document when `protectedResource` is configured. */
  configure(consumer: MiddlewareConsumer): void {
    if (this.verifier.protectedResource) consumer.apply(ProtectedResourceMetadataMiddleware).forRoutes('*');
  }

  /** Closes the verifier the module created from options (never one you passed in). */
  async onApplicationShutdown(): Promise<void> {
    if (createsVerifier(this.options)) await this.verifier.close();
  }
}
