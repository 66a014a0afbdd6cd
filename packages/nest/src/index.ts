/**
 * NestJS integration for certbound, on `@nestjs/platform-express` and `@nestjs/platform-fastify`.
 *
 * @example
 * \@Module({
 *   imports: [CertboundModule.forRoot({ issuer: 'https://as.example.com', audience: 'https://api.example.com' })],
 *   providers: [{ provide: APP_GUARD, useClass: CertboundGuard }],
 * })
 * export class AppModule {}
 */

export type {
  AuthInfo,
  CertboundErrorCode,
  CertboundOptions,
  DecisionEvent,
  DpopOptions,
  ReplayStore,
  TokenClaims,
  Verifier,
} from '@certbound/core';
export {
  CertboundConfigurationError,
  CertboundError,
  createVerifier,
  DIAGNOSTICS_CHANNELS,
  HEADER_FORMATS,
  hasScopes,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isCertboundError,
  ServiceUnavailableError,
  x5tS256,
} from '@certbound/core';
export { Auth, AuthContext, Public, Scopes } from './decorators.js';
export { CertboundGuard, type CertboundGuardRequest, type CertboundGuardTarget } from './guard.js';
export { CERTBOUND_MODULE_OPTIONS, CertboundModule, type CertboundModuleOptions } from './module.js';
export { CERTBOUND_VERIFIER } from './tokens.js';
