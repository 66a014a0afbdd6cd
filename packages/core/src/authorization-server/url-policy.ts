/** Which URLs certbound talks to: https, or http on loopback (development only); never a fragment. */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether `text` is an absolute https URL (or http on a loopback host) without a fragment. */
export function isAllowedUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  return secure && !text.includes('#');
}
