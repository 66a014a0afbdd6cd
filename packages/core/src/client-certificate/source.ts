/** The one configured certificate source: the TLS socket, or a trusted proxy's header. */
import type { NormalizedCertificateSource } from '../options/certificate-options.js';
import { headerCertificateSource } from './header.js';
import type { PresentedCertificate } from './presented.js';
import { certificateFromTls } from './tls.js';

export type CertificateSource = (req: object) => PresentedCertificate | undefined;

export function certificateSource(options: NormalizedCertificateSource): CertificateSource {
  if (options.from === 'tls') return certificateFromTls;
  return headerCertificateSource(options) as CertificateSource;
}
