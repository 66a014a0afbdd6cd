/**
 * nginx `$ssl_client_escaped_cert` (≥ 1.13.5): the leaf's PEM, percent-encoded as a URI component
 * (`ngx_escape_uri(..., NGX_ESCAPE_URI_COMPONENT)`: everything but `A-Za-z0-9-._~`). Decoded
 * strictly (`+` stays `+`, a malformed `%` is refused), then exactly one PEM certificate block.
 */
import {
  certificateDer,
  checkLength,
  leafPemDer,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
  strictPercentDecode,
} from './header-encoding.js';

export function decodeUrlPem(value: string): Buffer {
  checkLength(value, MAX_SINGLE_CERTIFICATE_HEADER_LENGTH);
  return certificateDer(leafPemDer(strictPercentDecode(value)));
}
