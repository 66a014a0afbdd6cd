/**
 * Bearer token extraction per RFC 6750 §2.1, header only (§2.2 and §2.3 methods are not offered).
 */
import { INVALID_REQUEST_DESCRIPTIONS, InvalidRequestError } from './errors.js';

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

/** All `Authorization` lines of a Node request, from `rawHeaders` (duplicates included). */
export function authorizationLines(req: RawHeaderRequest): string[] {
  const raw = req.rawHeaders;
  if (raw === undefined) {
    const value = req.headers?.authorization;
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') lines.push(raw[i + 1]!);
  }
  return lines;
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

/**
 * Reads the bearer token from the `Authorization` field lines.
 *
 * - no line, or another scheme → `undefined` (RFC 6750 §3.1: no error information);
 * - several lines → 400 `invalid_request`;
 * - `Bearer` with an empty or non-b64token credential → 400 `invalid_request`.
 *
 * The scheme is case-insensitive and may be followed by one or more SP (not TAB).
 */
export function bearerToken(lines: readonly string[]): string | undefined {
  if (lines.length === 0) return undefined;
  if (lines.length > 1) throw new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.duplicate);
  const value = lines[0];
  if (typeof value !== 'string') throw new InvalidRequestError();
  if (value.length < 6 || value.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  if (value.length === 6) throw new InvalidRequestError();
  if (value.charCodeAt(6) !== 0x20) {
    // `Bearerx …` is another scheme; `Bearer\t…` is a malformed Bearer credential.
    if (value.charCodeAt(6) === 0x09) throw new InvalidRequestError();
    return undefined;
  }
  let start = 7;
  while (start < value.length && value.charCodeAt(start) === 0x20) start++;
  const token = value.slice(start);
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    throw new InvalidRequestError();
  }
  return token;
}
