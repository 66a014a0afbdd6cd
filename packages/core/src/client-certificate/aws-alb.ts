/**
 * AWS Application Load Balancer mTLS headers: URL-encoded PEM "with `+=/` as safe characters"
 * (those stay literal, so `+` must never become a space). Verify mode, `X-Amzn-Mtls-Clientcert-Leaf`:
 * exactly one block. Passthrough mode, `X-Amzn-Mtls-Clientcert` (`chain: true`): the client's whole
 * chain, leaf first, so the first block (docs/proxies.md, decoding rules 6 to 8).
 */
import type { DecodeOptions } from './decoders.js';
import {
  certificateDer,
  checkLength,
  leafPemDer,
  MAX_CHAIN_HEADER_LENGTH,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
  strictPercentDecode,
} from './header-encoding.js';

export function decodeAwsAlb(value: string, options?: DecodeOptions): Buffer {
  const chain = options?.chain === true;
  checkLength(value, chain ? MAX_CHAIN_HEADER_LENGTH : MAX_SINGLE_CERTIFICATE_HEADER_LENGTH);
  return certificateDer(leafPemDer(strictPercentDecode(value), { chain }));
}
