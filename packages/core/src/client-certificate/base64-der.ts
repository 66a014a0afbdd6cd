/**
 * Bare standard base64 of the DER certificate, padded, no armour: HAProxy `%[ssl_c_der,base64]`,
 * Azure App Service `X-ARR-ClientCert`, ASP.NET Core certificate forwarding (RFC 4648 §4;
 * docs/proxies.md, decoding rule 5).
 */
import {
  certificateDer,
  checkLength,
  decodeStrictBase64,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
} from './header-encoding.js';

export function decodeBase64Der(value: string): Buffer {
  checkLength(value, MAX_SINGLE_CERTIFICATE_HEADER_LENGTH);
  return certificateDer(decodeStrictBase64(value, 'required'));
}
