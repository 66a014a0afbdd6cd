/**
 * Access token extraction from the `Authorization` header only: `Bearer` (RFC 6750 §2.1; the §2.2
 * and §2.3 methods are not offered) and `DPoP` (RFC 9449 §7.1).
 */
import { INVALID_REQUEST_DESCRIPTIONS, InvalidRequestError } from './errors.js';
import { fieldLines } from './field-lines.js';

/** `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 6750 §2.1). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Longest token accepted before any parsing (bytes); larger is malformed. */
export const MAX_TOKEN_LENGTH = 16_384;
const FORM_CONTENT_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

type RawHeaderRequest = {
  rawHeaders?: readonly string[];
  headers?: Record<string, string | string[] | undefined>;
  url?: string;
  body?: unknown;
};

/** All `Authorization` lines of a Node request (duplicates included). */
export function authorizationLines(req: RawHeaderRequest): string[] {
  return fieldLines(req, 'authorization');
}

/**
 * Whether the request also carries `access_token` in its query string (RFC 6750 §2.3) or in a
 * form-encoded body already parsed by a body parser mounted before certbound (§2.2; a JSON body's
 * `access_token` member is application data, not a token method).
 */
export function hasOtherTokenMethod(req: RawHeaderRequest, body: unknown = req.body): boolean {
  const url = req.url;
  const start = url === undefined ? -1 : url.indexOf('?');
  if (start !== -1) {
    // Parse only a query that could name it: literally, or percent-encoded (`access%5Ftoken`).
    const query = url!.slice(start + 1);
    if (
      (query.includes('access_token') || query.includes('%')) &&
      new URLSearchParams(query).has('access_token')
    ) {
      return true;
    }
  }
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, 'access_token')) return false;
  const contentType = req.headers?.['content-type'];
  return typeof contentType === 'string' && FORM_CONTENT_TYPE.test(contentType);
}

/** What the `Authorization` field carries: the scheme and the access token. */
export interface Credentials {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** The token after `scheme` (its length) and one or more SP, or a 400 when it is not a token68. */
function credentialOf(value: string, schemeLength: number): string {
  if (value.length === schemeLength) throw new InvalidRequestError();
  let start = schemeLength + 1;
  while (start < value.length && value.charCodeAt(start) === 0x20) start++;
  const token = value.slice(start);
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    throw new InvalidRequestError();
  }
  return token;
}

/** Whether `value` starts with the scheme `name` (case-insensitive) and then SP, TAB or its end. */
function hasScheme(value: string, name: string): boolean {
  if (value.length < name.length || value.slice(0, name.length).toLowerCase() !== name) return false;
  if (value.length === name.length) return true;
  const next = value.charCodeAt(name.length);
  // `Bearerx …` is another scheme; `Bearer\t…` is a malformed credential of this one.
  if (next === 0x09) throw new InvalidRequestError();
  return next === 0x20;
}

/**
 * Reads the access token from the `Authorization` field lines: `Bearer` (RFC 6750 §2.1) and, when
 * `dpop` is on, `DPoP` (RFC 9449 §7.1), both `scheme 1*SP token68`.
 *
 * - no line, or another scheme → `undefined` (RFC 6750 §3.1: no error information);
 * - several lines → 400 `invalid_request`;
 * - an accepted scheme with an empty or non-token68 credential → 400 `invalid_request`.
 *
 * The scheme is case-insensitive and may be followed by one or more SP (not TAB).
 */
export function authorizationCredentials(lines: readonly string[], dpop: boolean): Credentials | undefined {
  if (lines.length === 0) return undefined;
  if (lines.length > 1) throw new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.duplicate);
  const value = lines[0];
  if (typeof value !== 'string') throw new InvalidRequestError();
  if (hasScheme(value, 'bearer')) return { scheme: 'Bearer', token: credentialOf(value, 6) };
  if (dpop && hasScheme(value, 'dpop')) return { scheme: 'DPoP', token: credentialOf(value, 4) };
  return undefined;
}

/** The bearer token of the `Authorization` field lines (see {@link authorizationCredentials}). */
export function bearerToken(lines: readonly string[]): string | undefined {
  return authorizationCredentials(lines, false)?.token;
}
