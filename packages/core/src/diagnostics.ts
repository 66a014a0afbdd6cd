/**
 * Observability through `node:diagnostics_channel` (no logger dependency). Messages never carry
 * tokens, certificates or header values.
 */
import { channel } from 'node:diagnostics_channel';

/** Published when a certificate header is ignored: `{ reason, header, peer }`. */
export const CERTIFICATE_HEADER_CHANNEL = 'certbound:certificate-header-ignored';

export interface CertificateHeaderIgnored {
  /** `untrusted-peer`, `repeated`, `too-large`, or the decoder's reason. */
  reason: string;
  /** The header name. */
  header: string;
  /** The immediate peer's address. */
  peer: string | undefined;
}

const certificateHeaderChannel = channel(CERTIFICATE_HEADER_CHANNEL);

export function reportIgnoredCertificateHeader(message: CertificateHeaderIgnored): void {
  if (certificateHeaderChannel.hasSubscribers) certificateHeaderChannel.publish(message);
}
