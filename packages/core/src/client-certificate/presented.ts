/** A client certificate as the verifier uses it: its DER bytes and `x5t#S256`. */
import { thumbprintOfDer } from '../thumbprint.js';

export interface PresentedCertificate {
  /** DER bytes exactly as received. */
  readonly der: Buffer;
  /** RFC 8705 §3.1 thumbprint. */
  readonly thumbprint: string;
  /** The thumbprint's ASCII bytes, for constant-time comparison. */
  readonly thumbprintBytes: Buffer;
}

export function presentedCertificate(der: Buffer, thumbprint = thumbprintOfDer(der)): PresentedCertificate {
  return { der, thumbprint, thumbprintBytes: Buffer.from(thumbprint, 'latin1') };
}
