/**
 * `certificateDer` reads certificates with `node:crypto` alone, so this package does not load
 * `@certbound/core`; it must accept exactly what the core's `x5tS256` accepts, and give the bytes
 * whose thumbprint the core computes.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { x5tS256 } from '@certbound/core';
import { createTestPki } from '@certbound/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CertificateInput, certificateDer } from '../src/certificate-input.js';

let pem: string;
let der: Buffer;

beforeAll(async () => {
  const pki = await createTestPki();
  ({ cert: pem, der } = await pki.issueClient({ subject: 'CN=client' }));
});

function coreThumbprint(input: CertificateInput): string | undefined {
  try {
    return x5tS256(input);
  } catch {
    return undefined;
  }
}

const thumbprint = (bytes: Buffer | undefined) =>
  bytes && createHash('sha256').update(bytes).digest('base64url');

describe('certificateDer', () => {
  it.each([
    ['DER', true, () => der],
    ['a Uint8Array view of DER', true, () => new Uint8Array(der)],
    ['PEM', true, () => pem],
    ['PEM with CRLF line breaks', true, () => pem.replace(/\n/g, '\r\n')],
    ['PEM folded into spaces (Apache)', true, () => pem.trim().split('\n').join(' ')],
    ['an X509Certificate', true, () => new X509Certificate(der)],
    ['TAB-folded PEM', false, () => pem.replace(/\n(?=[A-Za-z0-9+/])/g, '\n\t')],
    ['two PEM blocks', false, () => pem + pem],
    ['a private key block', false, () => pem.replace(/CERTIFICATE/g, 'PRIVATE KEY')],
    ['PEM with a character outside base64', false, () => `${pem.slice(0, 40)}*${pem.slice(41)}`],
    ['DER with a trailing byte', false, () => Buffer.concat([der, Buffer.from([0])])],
    ['truncated DER', false, () => der.subarray(0, der.length - 1)],
    ['random bytes', false, () => Buffer.from('not a certificate')],
    ['empty bytes', false, () => Buffer.alloc(0)],
    ['an empty string', false, () => ''],
  ])('agrees with x5tS256 of @certbound/core for %s', (_name, accepted, make) => {
    const input = make();
    expect(certificateDer(input) !== undefined).toBe(accepted);
    expect(thumbprint(certificateDer(input))).toBe(coreThumbprint(input));
  });

  it('gives the DER itself', () => {
    expect(certificateDer(pem)?.equals(der)).toBe(true);
    expect(certificateDer(new X509Certificate(der))?.equals(der)).toBe(true);
  });
});
