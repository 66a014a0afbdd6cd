/** Claims the test issuer derives from what a token is bound to. */
import { dpopThumbprint } from './dpop.js';
import type { MintOptions } from './issuer.js';

/** The CN of a certificate's subject (`CN=client-a, O=Example` → `client-a`), if it has one. */
export function commonName(certificate: MintOptions['certificate']): string | undefined {
  const subject = certificate?.subject;
  if (subject === undefined) return undefined;
  const match = /(?:^|,)\s*CN=((?:\\.|[^,\\])+)/i.exec(subject);
  return match?.[1]?.replace(/\\(.)/g, '$1').trim();
}

/** `cnf` for the binding asked for: the certificate's `x5t#S256`, the DPoP key's `jkt`, or both. */
export async function confirmation(mint: MintOptions): Promise<{ cnf?: Record<string, string> }> {
  const cnf: Record<string, string> = {};
  if (mint.certificate) cnf['x5t#S256'] = mint.certificate.thumbprint;
  if (mint.dpopKey) cnf.jkt = await dpopThumbprint(mint.dpopKey);
  return Object.keys(cnf).length === 0 ? {} : { cnf };
}
