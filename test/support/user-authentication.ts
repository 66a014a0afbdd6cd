/**
 * A user's authentication at the oidc-provider harness (test/support/authorization-server.ts):
 * the authorization code flow (with PKCE and a resource indicator) driven the way a browser would
 * drive it, and the login and consent interactions the harness answers in place of a login page.
 *
 * Where the claims come from: the test says how the user authenticated (`acr`, `amr`, the time
 * `authTime`) and the interaction finishes with that login (`interactionFinished`, `login.ts` is
 * the authentication time). oidc-provider keeps it in its session and copies it to the
 * authorization code (`acr`, `amr`, `authTime`), but into no access token.
 * {@link userAuthenticationClaims}, the harness's `extraTokenClaims`, copies the code's `acr`
 * and `auth_time` into the access token it issues for that code, as RFC 9068 §2.2.1 names them: a
 * JWT carries them, introspection of an opaque token answers them. A client credentials token has
 * no user and carries neither. Never use it outside a test.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Dispatcher, request } from 'undici';

/** Where the harness's authorization code clients are redirected to; never called. */
export const REDIRECT_URI = 'https://client.example.test/callback';

/** How the user authenticated, as the login interaction reports it to oidc-provider. */
export interface UserLogin {
  /** `sub` of the tokens. Default `user-1`. */
  accountId?: string;
  /** Authentication context class (`acr`). */
  acr?: string;
  /** Authentication methods (`amr`). */
  amr?: string[];
  /** When the user authenticated, epoch seconds (`auth_time`). Default now. */
  authTime?: number;
}

/** What the client asks for in the authorization request. */
export interface AuthorizationRequestOptions {
  /** Space-separated resource scopes; `openid` is always requested too. */
  scope: string;
  /** RFC 9470 §4: the `acr_values` a step-up challenge named, as the client sends them on. */
  acrValues?: string;
}

/** The little of oidc-provider the interactions and the token claims use. */
interface ProviderInteraction {
  params: Record<string, unknown>;
  prompt: {
    name: string;
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  grantId?: string;
  session?: { accountId?: string };
}
interface ProviderGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
export interface InteractionProvider {
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<ProviderInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
  ): Promise<void>;
  Grant: {
    new (fields: { accountId: string; clientId: string }): ProviderGrant;
    find(id: string): Promise<ProviderGrant | undefined>;
  };
}
interface TokenContext {
  oidc?: { entities?: { AuthorizationCode?: { acr?: string; authTime?: number } } };
}

/** The path of oidc-provider's default `interactions.url`. */
export const INTERACTION_PREFIX = '/interaction/';

/**
 * `extraTokenClaims`: the `acr` and `auth_time` of the user authentication behind the
 * authorization code an access token is issued for (see the module comment).
 */
export function userAuthenticationClaims(
  ctx: TokenContext,
  token: { kind: string },
): Record<string, unknown> | undefined {
  const code = ctx.oidc?.entities?.AuthorizationCode;
  if (token.kind !== 'AccessToken' || code === undefined) return undefined;
  return {
    ...(code.acr === undefined ? {} : { acr: code.acr }),
    ...(code.authTime === undefined ? {} : { auth_time: code.authTime }),
  };
}

/**
 * The login and consent pages: each authorization request's `state` names the login the test
 * wants, and the user consents to whatever the client asked for.
 */
export class LoginInteractions {
  readonly #logins = new Map<string, Required<Pick<UserLogin, 'accountId'>> & UserLogin>();

  /** The login to report for the authorization request with this `state`. */
  expect(state: string, login: UserLogin): void {
    this.#logins.set(state, { ...login, accountId: login.accountId ?? 'user-1' });
  }

  /** Answers a request to `/interaction/<uid>`: finishes the interaction (a 303 back to oidc-provider). */
  async handle(provider: InteractionProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const interaction = await provider.interactionDetails(req, res);
      const state = String(interaction.params['state']);
      const login = this.#logins.get(state);
      if (login === undefined) throw new Error(`no login expected for state ${state}`);
      if (interaction.prompt.name === 'login') {
        await provider.interactionFinished(req, res, {
          login: {
            accountId: login.accountId,
            ...(login.acr === undefined ? {} : { acr: login.acr }),
            ...(login.amr === undefined ? {} : { amr: login.amr }),
            ...(login.authTime === undefined ? {} : { ts: login.authTime }),
          },
        });
        return;
      }
      if (interaction.prompt.name === 'consent') {
        const clientId = String(interaction.params['client_id']);
        const grant =
          (interaction.grantId === undefined ? undefined : await provider.Grant.find(interaction.grantId)) ??
          new provider.Grant({ accountId: interaction.session?.accountId ?? login.accountId, clientId });
        const { details } = interaction.prompt;
        if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
        if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
        for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
          grant.addResourceScope(resource, scopes.join(' '));
        }
        await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
        this.#logins.delete(state);
        return;
      }
      throw new Error(`unexpected prompt ${interaction.prompt.name}`);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error instanceof Error ? error.message : String(error));
    }
  }
}

/** The cookies of one user agent: by name, whatever their path (oidc-provider reads them by name). */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const line of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute));
      if (value === '' || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface AuthorizationCode {
  code: string;
  codeVerifier: string;
}

/**
 * The front channel of the authorization code flow, as a browser without a client certificate:
 * the authorization request, the redirects through the login and consent interactions, and the
 * code from the final redirect to {@link REDIRECT_URI} (with `state` and RFC 9207 `iss` checked).
 */
export async function authorize(
  server: { issuer: string; resource: string; dispatcher: Dispatcher; interactions: LoginInteractions },
  clientId: string,
  login: UserLogin,
  options: AuthorizationRequestOptions,
): Promise<AuthorizationCode> {
  const state = randomBytes(12).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: `openid ${options.scope}`.trim(),
    resource: server.resource,
    state,
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  if (options.acrValues !== undefined) query.set('acr_values', options.acrValues);
  server.interactions.expect(state, login);

  const jar = new CookieJar();
  let url = new URL(`/auth?${query}`, server.issuer);
  // /auth → login → /auth/<uid> → consent → /auth/<uid> → the redirect URI.
  for (let hop = 0; hop < 8; hop++) {
    const cookie = jar.header();
    const response = await request(url, {
      dispatcher: server.dispatcher,
      headers: cookie === '' ? {} : { cookie },
    });
    const body = await response.body.text();
    jar.store(response.headers['set-cookie']);
    const location = response.headers['location'];
    if (response.statusCode !== 303 && response.statusCode !== 302) {
      throw new Error(`authorization flow: HTTP ${response.statusCode} at ${url.pathname}: ${body}`);
    }
    if (typeof location !== 'string') throw new Error(`authorization flow: no Location at ${url.pathname}`);
    url = new URL(location, server.issuer);
    if (url.origin + url.pathname === REDIRECT_URI) {
      const { searchParams } = url;
      if (searchParams.has('error')) {
        throw new Error(
          `authorization flow: ${searchParams.get('error')}: ${searchParams.get('error_description')}`,
        );
      }
      if (searchParams.get('state') !== state || searchParams.get('iss') !== server.issuer) {
        throw new Error(`authorization flow: unexpected redirect ${url.search}`);
      }
      return { code: searchParams.get('code')!, codeVerifier };
    }
  }
  throw new Error('authorization flow: too many redirects');
}
