import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateBytes, parseCertificateDer, pemToDer, x5tS256 } from '../src/certificate-input.js';
import { X5T_S256_PATTERN } from '../src/thumbprint.js';
import {
  APPENDIX_A_DER as der,
  APPENDIX_A_THUMBPRINT as EXPECTED,
  APPENDIX_A_PEM as pem,
} from './support/certificates.js';

describe('x5tS256', () => {
  it('gives the RFC 8705 Appendix A value for the PEM certificate', () => {
    expect(x5tS256(pem)).toBe(EXPECTED);
  });

  it('gives the same value for DER bytes, a Uint8Array view and an X509Certificate', () => {
    expect(x5tS256(der)).toBe(EXPECTED);
    expect(x5tS256(new Uint8Array(der))).toBe(EXPECTED);
    expect(x5tS256(new X509Certificate(der))).toBe(EXPECTED);
  });

  it('binds an expired certificate: validity is not its concern (RFC 8705 §6.2)', () => {
    expect(new Date(new X509Certificate(der).validTo).getTime()).toBeLessThan(Date.now());
    expect(x5tS256(der)).toBe(EXPECTED);
  });

  it('is 43 canonical base64url characters without padding', () => {
    expect(EXPECTED).toMatch(X5T_S256_PATTERN);
    expect(x5tS256(pem)).not.toContain('=');
  });

  it('accepts PEM with CRLF line breaks or with line breaks folded into spaces (Apache)', () => {
    expect(x5tS256(pem.replace(/\n/g, '\r\n'))).toBe(EXPECTED);
    const body = pem.split('\n').slice(1, -2).join(' ');
    expect(x5tS256(`-----BEGIN CERTIFICATE----- ${body} -----END CERTIFICATE-----`)).toBe(EXPECTED);
  });

  it.each([
    ['TAB-folded PEM (nginx $ssl_client_cert)', pem.replace(/\n(?=[A-Za-z0-9+/])/g, '\n\t')],
    ['two PEM blocks', pem + pem],
    ['a private key block', pem.replace(/CERTIFICATE/g, 'PRIVATE KEY')],
    ['PEM with a character outside base64', pem.replace('MIIBBjCB', 'MIIB*jCB')],
    ['empty string', ''],
  ])('rejects %s', (_name, input) => {
    expect(() => x5tS256(input)).toThrow(
      new TypeError('x5tS256: the input is not a DER, PEM or X509Certificate certificate'),
    );
  });

  it('rejects DER with trailing bytes, truncated DER and random bytes', () => {
    expect(() => x5tS256(Buffer.concat([der, Buffer.from([0])]))).toThrow(TypeError);
    expect(() => x5tS256(der.subarray(0, der.length - 1))).toThrow(TypeError);
    expect(() => x5tS256(Buffer.from('not a certificate'))).toThrow(TypeError);
    expect(certificateBytes(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('pemToDer', () => {
  it('decodes one PEM certificate block, whitespace around it included', () => {
    expect(pemToDer(pem)).toEqual(der);
    expect(pemToDer(`\n  ${pem}\n\n`)).toEqual(der);
  });

  it.each([
    ['a body whose length is not a multiple of 4', pem.replace('MIIB', 'MII')],
    ['text before the block', `subject=CN=x\n${pem}`],
    ['a block that never ends', pem.replace('-----END CERTIFICATE-----', '')],
    ['an empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----'],
    // Node's base64 decoder stops at the first '=': what follows would be silently dropped.
    ['a body that goes on after its padding', pem.replace('-----END', 'AAAA\n-----END')],
    ['a body that starts with padding', pem.replace('MIIB', '=IIB')],
  ])('returns nothing for %s', (_name, input) => {
    expect(pemToDer(input)).toBeUndefined();
  });
});

describe('parseCertificateDer', () => {
  it('returns the same bytes for exactly one certificate', () => {
    const parsed = parseCertificateDer(der);
    expect(parsed).toEqual(der);
    expect(Buffer.isBuffer(parseCertificateDer(new Uint8Array(der)))).toBe(true);
  });

  it('returns nothing for trailing bytes, truncation or non-certificates', () => {
    expect(parseCertificateDer(Buffer.concat([der, Buffer.from([0])]))).toBeUndefined();
    expect(parseCertificateDer(der.subarray(0, 100))).toBeUndefined();
    expect(parseCertificateDer(Buffer.from('junk'))).toBeUndefined();
  });
});

describe('certificateBytes', () => {
  it('gives the DER and the thumbprint of every input form', () => {
    for (const input of [pem, der, new Uint8Array(der), new X509Certificate(der)]) {
      expect(certificateBytes(input)).toEqual({ der, thumbprint: EXPECTED });
    }
  });

  it('gives the same answer for a byte string it has already checked', () => {
    const copy = Buffer.from(der);
    expect(certificateBytes(copy)).toEqual({ der, thumbprint: EXPECTED });
    expect(certificateBytes(copy)).toEqual({ der, thumbprint: EXPECTED });
    expect(certificateBytes(Buffer.concat([copy, Buffer.from([0])]))).toBeUndefined();
  });
});
