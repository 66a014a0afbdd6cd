/** Route decorators: `@Public()`, `@Scopes()` and the `@Auth()` parameter decorator. */
import type { AuthContextPolicy, AuthInfo } from '@certbound/core';
import { assertAuthContextPolicy, assertScopeNames } from '@certbound/core/adapter';
import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { AUTH_CONTEXT_KEY, PUBLIC_KEY, SCOPES_KEY } from './tokens.js';

/** Opts a handler or a whole controller out of `CertboundGuard`. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);

/**
 * Requires every one of `scopes` (403 `insufficient_scope` otherwise). On a controller and on a
 * handler, both sets are required.
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator => {
  assertScopeNames(scopes);
  return SetMetadata(SCOPES_KEY, scopes);
};

/**
 * Requires a user authentication the route accepts (RFC 9470 step-up): the token's `acr` among
 * `policy.acr`, its `auth_time` within `policy.maxAgeSeconds`; otherwise 401
 * `insufficient_user_authentication`. On a handler it replaces the controller's.
 */
export const AuthContext = (policy: AuthContextPolicy): MethodDecorator & ClassDecorator => {
  assertAuthContextPolicy(policy, '@AuthContext');
  return SetMetadata(AUTH_CONTEXT_KEY, policy);
};

/** The request's verified `AuthInfo` (set by `CertboundGuard`; `undefined` on `@Public()` routes). */
export const Auth: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthInfo | undefined =>
    context.switchToHttp().getRequest<{ auth?: AuthInfo }>().auth,
);
