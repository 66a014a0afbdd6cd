import { describe, expect, it } from 'vitest';
import { fieldLines } from '../src/field-lines.js';

describe('fieldLines', () => {
  it('gives every line of a field from rawHeaders, whatever its case, in order', () => {
    const rawHeaders = ['Host', 'api', 'DPoP', 'one', 'Authorization', 'DPoP t', 'dpop', 'two', 'DPOP', ''];
    expect(fieldLines({ rawHeaders }, 'dpop')).toEqual(['one', 'two', '']);
    expect(fieldLines({ rawHeaders }, 'authorization')).toEqual(['DPoP t']);
    expect(fieldLines({ rawHeaders }, 'cookie')).toEqual([]);
  });

  it('does not take a field whose name only starts or ends like the one asked for', () => {
    const rawHeaders = ['DPoP-Nonce', 'n', 'X-DPoP', 'x', 'DPoP', 'p'];
    expect(fieldLines({ rawHeaders }, 'dpop')).toEqual(['p']);
  });

  it('prefers rawHeaders to headers, which join or drop repeated lines', () => {
    expect(fieldLines({ rawHeaders: [], headers: { dpop: 'joined' } }, 'dpop')).toEqual([]);
  });

  it('falls back to headers without rawHeaders: a string, an array, or nothing', () => {
    expect(fieldLines({ headers: { dpop: 'one' } }, 'dpop')).toEqual(['one']);
    expect(fieldLines({ headers: { dpop: ['one', 'two'] } }, 'dpop')).toEqual(['one', 'two']);
    expect(fieldLines({ headers: {} }, 'dpop')).toEqual([]);
    expect(fieldLines({}, 'dpop')).toEqual([]);
  });
});
