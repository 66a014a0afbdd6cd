/**
 * `CertboundGuard`: authenticates the request through the module's verifier and checks
 * `@Scopes()`. Nest ignores an exception's headers, so the guard sets `WWW-Authenticate` (and
 * `Retry-After` on 503) on the response itself before throwing an `HttpException` whose body is
 * `{ error, error_description, code }`.
 *
 * Subclasses adapt it to other context types (GraphQL resolvers, say) by overriding the protected
 * methods: `getRequestResponse` (where the request and response are), `setResponseHeader` (how a
 * header is set) and `handleError` (what is thrown). The decision itself stays in `canActivate`
 * and the core. See the README, "Extending the guard".
 */
import {
  type AuthContextPolicy,
  type AuthInfo,
  type CertboundError,
  isCertboundError,
  requireAuthContext,
  requireScopes,
  type Verifier,
} from '@certbound/core';
import { authenticateNow, type NodeRequest } from '@certbound/core/adapter';
import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AUTH_CONTEXT_KEY, CERTBOUND_VERIFIER, PUBLIC_KEY, SCOPES_KEY } from './tokens.js';

/**
 * The request as the guard sees it: the Node request itself (Express), or an object keeping it
 * in `raw` (Fastify). The guard reads `body` (a form body's `access_token` is refused, RFC 6750
 * §2) and sets `auth`.
 */
export interface CertboundGuardRequest {
  raw?: NodeRequest;
  body?: unknown;
  auth?: AuthInfo;
}

/** The request the guard authenticates and the response it sets headers on. */
export interface CertboundGuardTarget {
  req: CertboundGuardRequest;
  res: unknown;
}

/** What a route's decorators ask of the guard. */
interface RouteRules {
  isPublic: boolean;
  scopes: string[];
  policy: AuthContextPolicy | undefined;
}

@Injectable()
export class CertboundGuard implements CanActivate {
  /** Per controller class, per handler: its {@link RouteRules}. */
  readonly #rules = new WeakMap<object, WeakMap<object, RouteRules>>();

  constructor(
    @Inject(CERTBOUND_VERIFIER) protected readonly verifier: Verifier,
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Inject(HttpAdapterHost) protected readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const target = this.getRequestResponse(context);
    // Fail closed where there is no request (a global guard also sees microservice and WebSocket handlers).
    if (target === undefined) return false;
    const rules = this.#rulesOf(context);
    if (rules.isPublic) return true;

    const { req: request, res: response } = target;
    let decision: AuthInfo | Promise<AuthInfo>;
    try {
      const node = (request.raw ?? request) as NodeRequest;
      decision = authenticateNow(this.verifier, node, { body: request.body });
    } catch (error) {
      return this.#refuse(error, context, response);
    }
    // A token seen before is decided without a promise; Nest accepts either.
    if (decision instanceof Promise) {
      return decision.then(
        (auth) => this.#accept(auth, rules, request, context, response),
        (error: unknown) => this.#refuse(error, context, response),
      );
    }
    return this.#accept(decision, rules, request, context, response);
  }

  /**
   * The route's `@Public()`, `@Scopes()` and `@AuthContext()`, read once per controller class and
   * handler: decorators set them when the class is defined (a class inheriting a handler has its
   * own entry, as its class-level decorators may differ).
   */
  #rulesOf(context: ExecutionContext): RouteRules {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.#rules.get(controller);
    if (byHandler === undefined) {
      byHandler = new WeakMap();
      this.#rules.set(controller, byHandler);
    }
    let rules = byHandler.get(handler);
    if (rules === undefined) {
      const targets = [handler, controller];
      rules = {
        isPublic: this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets) === true,
        scopes: this.reflector.getAllAndMerge<string[]>(SCOPES_KEY, targets) ?? [],
        policy: this.reflector.getAllAndOverride<AuthContextPolicy | undefined>(AUTH_CONTEXT_KEY, targets),
      };
      byHandler.set(handler, rules);
    }
    return rules;
  }

  #accept(
    auth: AuthInfo,
    rules: RouteRules,
    request: CertboundGuardRequest,
    context: ExecutionContext,
    response: unknown,
  ): true {
    try {
      request.auth = auth;
      requireScopes(auth, ...rules.scopes);
      if (rules.policy !== undefined) requireAuthContext(auth, rules.policy);
    } catch (error) {
      return this.#refuse(error, context, response);
    }
    const headers = auth.responseHeaders;
    for (const name in headers) this.setResponseHeader(response, name, headers[name]!);
    return true;
  }

  #refuse(error: unknown, context: ExecutionContext, response: unknown): never {
    if (!isCertboundError(error)) throw error;
    this.handleError(error, context, response);
    // Fail closed even if an override returns instead of throwing.
    throw error;
  }

  /**
   * Where the request and response are: by default those of an HTTP context, and `undefined`
   * (the guard refuses) for any other context type. Override it for other context types, e.g.
   * GraphQL's, whose context object holds the platform's `req` and `res`.
   */
  protected getRequestResponse(context: ExecutionContext): CertboundGuardTarget | undefined {
    if (context.getType() !== 'http') return undefined;
    const http = context.switchToHttp();
    return { req: http.getRequest<CertboundGuardRequest>(), res: http.getResponse<unknown>() };
  }

  /** Sets one response header: by default through the HTTP adapter (Express or Fastify). */
  protected setResponseHeader(response: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }

  /**
   * Turns a refusal into what the context's caller expects; it must throw. By default it sets the
   * error's headers (`WWW-Authenticate`, RFC 6750 §3; `Retry-After` on 503) and throws an
   * `HttpException` with the error's status, `{ error, error_description, code }` and the
   * `CertboundError` as `cause`.
   */
  protected handleError(error: CertboundError, _context: ExecutionContext, response: unknown): never {
    for (const [name, value] of Object.entries(error.headers)) this.setResponseHeader(response, name, value);
    throw new HttpException(error.toJSON(), error.status, { cause: error });
  }
}
