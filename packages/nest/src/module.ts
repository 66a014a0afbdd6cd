/**
 * `CertboundModule.forRoot(options)` / `forRootAsync({ useFactory, inject, imports })`: one
 * verifier for the app, and `CertboundGuard` to apply per controller or globally (`APP_GUARD`).
 */
import type { CertboundOptions, Verifier } from '@certbound/core';
import { assertVerifierSource, createsVerifier, resolveVerifier } from '@certbound/core/adapter';
import {
  ConfigurableModuleBuilder,
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CertboundGuard } from './guard.js';
import { serveProtectedResourceMetadata } from './metadata-route.js';
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
export class CertboundModule extends ConfigurableModuleClass implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: CertboundModuleOptions,
    @Inject(CERTBOUND_VERIFIER) private readonly verifier: Verifier,
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
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

  /** Serves the RFC 9728 metadata document when `protectedResource` is configured (HTTP apps). */
  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    const endpoint = this.verifier.protectedResource;
    if (adapter && endpoint) serveProtectedResourceMetadata(adapter, endpoint);
  }

  /** Closes the verifier the module created from options (never one you passed in). */
  async onApplicationShutdown(): Promise<void> {
    if (createsVerifier(this.options)) await this.verifier.close();
  }
}
