/**
 * One PEM certificate block as text (Apache httpd `SSL_CLIENT_CERT`, Azure Application Gateway):
 * line breaks may be LF, CRLF or spaces (Apache folds them into spaces); TAB-folded PEM (nginx's
 * deprecated `$ssl_client_cert`, obsolete line folding) is refused (docs/proxies.md, decoding
 * rule 7).
 */
import {
  certificateDer,
  checkLength,
  leafPemDer,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
} from './header-encoding.js';

export function decodePem(value: string): Buffer {
  checkLength(value, MAX_SINGLE_CERTIFICATE_HEADER_LENGTH);
  return certificateDer(leafPemDer(value));
}
