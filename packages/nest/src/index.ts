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

export type { AuthInfo, CertboundOptions, Verifier } from '@certbound/core';
export {
  CertboundError,
  createVerifier,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServiceUnavailableError,
} from '@certbound/core';
export { Auth, Public, Scopes } from './decorators.js';
export { CertboundGuard, type CertboundGuardRequest, type CertboundGuardTarget } from './guard.js';
export { CERTBOUND_MODULE_OPTIONS, CertboundModule, type CertboundModuleOptions } from './module.js';
export { CERTBOUND_VERIFIER } from './tokens.js';
