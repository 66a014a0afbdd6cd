import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thumbprintOfDer, thumbprintsEqual, X5T_S256_PATTERN } from '../src/thumbprint.js';
import {
  APPENDIX_A_DER,
  APPENDIX_A_THUMBPRINT as EXPECTED,
  OTHER_THUMBPRINT,
} from './support/certificates.js';
import { differingPositions, firstLetterIndex, NEAR_MISSES } from './support/near-misses.js';

describe('thumbprintOfDer', () => {
  it('gives the RFC 8705 Appendix A value: base64url of the SHA-256 of the DER, without padding', () => {
    expect(thumbprintOfDer(APPENDIX_A_DER)).toBe(EXPECTED);
    expect(thumbprintOfDer(APPENDIX_A_DER)).toBe(
      createHash('sha256').update(APPENDIX_A_DER).digest('base64url'),
    );
  });
});

describe('X5T_S256_PATTERN (canonical confirmation values)', () => {
  it.each([
    ['padded', `${EXPECTED}=`],
    ['standard base64 alphabet', 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v+'],
    ['non-canonical last character (same bytes)', 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v1'],
    ['hex', '0380ed2f626650c840b2f263e6d2b29fae12ab39ae5db32b25ad27efad72e6fd'],
    ['too short', EXPECTED.slice(1)],
    ['with whitespace', ` ${EXPECTED}`],
  ])('refuses %s', (_name, value) => {
    expect(X5T_S256_PATTERN.test(value)).toBe(false);
  });

  it('accepts real thumbprints', () => {
    expect(X5T_S256_PATTERN.test(EXPECTED)).toBe(true);
    expect(X5T_S256_PATTERN.test(OTHER_THUMBPRINT)).toBe(true);
  });
});

describe('thumbprintsEqual', () => {
  const real = Buffer.from(EXPECTED, 'latin1');

  it('is true for the same thumbprint', () => {
    expect(thumbprintsEqual(Buffer.from(EXPECTED, 'latin1'), real)).toBe(true);
  });

  it('is false for another thumbprint', () => {
    expect(thumbprintsEqual(Buffer.from(OTHER_THUMBPRINT, 'latin1'), real)).toBe(false);
  });

  it('is false, without throwing, for values of another length (a prefix, a longer value, nothing)', () => {
    expect(thumbprintsEqual(Buffer.from(EXPECTED.slice(0, 16), 'latin1'), real)).toBe(false);
    expect(thumbprintsEqual(Buffer.from(`${EXPECTED}A`, 'latin1'), real)).toBe(false);
    expect(thumbprintsEqual(Buffer.alloc(0), real)).toBe(false);
  });

  it.each(NEAR_MISSES)('is false for a confirmation that $name', (nearMiss) => {
    const confirmation = nearMiss.from(EXPECTED);
    expect(confirmation).toMatch(X5T_S256_PATTERN);
    expect(thumbprintsEqual(Buffer.from(confirmation, 'latin1'), real)).toBe(false);
  });
});

describe('the near-miss confirmations the binding tests use', () => {
  it.each(NEAR_MISSES)('a confirmation that $name is canonical and differs exactly there', (nearMiss) => {
    for (const thumbprint of [EXPECTED, OTHER_THUMBPRINT]) {
      const confirmation = nearMiss.from(thumbprint);
      expect(confirmation).toMatch(X5T_S256_PATTERN);
      expect(differingPositions(confirmation, thumbprint)).toEqual(nearMiss.positions(thumbprint));
    }
  });

  it('flips the case of the first letter of the thumbprint', () => {
    expect(firstLetterIndex(EXPECTED)).toBe(0);
    expect(firstLetterIndex('0123ab')).toBe(4);
    const flipped = NEAR_MISSES[2]!.from(EXPECTED);
    expect(flipped).toBe(`a${EXPECTED.slice(1)}`);
    expect(flipped.toLowerCase()).toBe(EXPECTED.toLowerCase());
  });
});
