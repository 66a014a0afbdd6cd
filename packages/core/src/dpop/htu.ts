/**
 * The `htu` comparison (RFC 9449 §4.3 step 9): the proof's URI against the request's, query and
 * fragment ignored, after syntax-based and scheme-based normalization (RFC 3986 §6.2.2, §6.2.3):
 * scheme and host in lower case, the default port dropped, dot segments removed, percent-encodings
 * in upper case and unreserved characters decoded, an empty path as `/`.
 */

/** Unreserved characters (RFC 3986 §2.3), which percent-encoding never changes the meaning of. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
/** Longest `htu` accepted, characters. */
const MAX_HTU_LENGTH = 8192;
/** An absolute http(s) URI in RFC 3986 characters only (§2): `scheme://` then no space, `\`, `"`, … */
const URI_TEXT = /^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/i;
/** A `%` not followed by two hex digits: not a URI (RFC 3986 §2.1). */
const BARE_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** The host of `scheme://[userinfo@]host[:port]…`, as written. */
const WRITTEN_HOST = /^[a-z]+:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)/i;

/** Upper-case hex digits, and unreserved characters decoded (RFC 3986 §6.2.2.1, §6.2.2.2). */
function normalizePercentEncoding(path: string): string {
  return path.replace(PERCENT_ENCODED, (_, hex: string) => {
    const character = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(character) ? character : `%${hex.toUpperCase()}`;
  });
}

/**
 * The normalized `scheme://authority/path` of an absolute http(s) URI, without query and
 * fragment, or `undefined` when it is not one (userinfo is refused: a request URI never has it).
 */
export function normalizeHtu(written: string): string | undefined {
  if (written.length > MAX_HTU_LENGTH) return undefined;
  // Query and fragment are ignored (RFC 9449 §4.3 step 9), whatever they hold.
  const end = written.search(/[?#]/);
  const uri = end === -1 ? written : written.slice(0, end);
  if (!URI_TEXT.test(uri) || BARE_PERCENT.test(uri)) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    return undefined;
  }
  // WHATWG parsing rewrites hosts RFC 3986 keeps as names (`2130706433`, `0x7f.0.0.1`, `127.1`):
  // the host must be the one written, but for case.
  if (WRITTEN_HOST.exec(uri)?.[1]?.toLowerCase() !== url.hostname) return undefined;
  // WHATWG URL parsing already lower-cases scheme and host, drops the default port and removes
  // dot segments; percent-encoding is left as written.
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname)}`;
}

/** A configured origin (`https://api.example.com`), normalized, or `undefined` if it is not one. */
export function normalizeOrigin(origin: string): string | undefined {
  const normalized = normalizeHtu(origin);
  if (normalized === undefined || !normalized.endsWith('/') || !URL.canParse(origin)) return undefined;
  const url = new URL(origin);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || origin.includes('#')) return undefined;
  return normalized.slice(0, -1);
}

/** The normalized request URI for `origin` and a request target (`/path?query`). */
export function requestHtu(origin: string, target: string): string | undefined {
  if (!target.startsWith('/')) {
    // Absolute-form (RFC 9112 §3.2.2): the request's path is the target's.
    const absolute = normalizeHtu(target);
    return absolute === undefined ? undefined : normalizeHtu(`${origin}${new URL(absolute).pathname}`);
  }
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (!path.startsWith('/')) return undefined;
  return normalizeHtu(`${origin}${path}`);
}
