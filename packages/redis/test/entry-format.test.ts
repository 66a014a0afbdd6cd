/**
 * The stored format, against a known answer computed outside this code (with `openssl dgst
 * -sha256 -hmac`), so a change of format is always deliberate.
 */
import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from '../src/entry-format.js';

const SECRET = createSecretKey(Buffer.from('certbound-redis-test-secret-0001'));
const KEY = 'certbound:certbound:introspection:AAAAAAAAAAAAAAAA:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg';
const ENTRY = {
  response: { active: true, sub: 'client-a', exp: 1767225600 },
  expiresAt: 1767225600000,
};
const STORED =
  'v1.OWRXOwsSi7coV4zOsgwXQfDQVsU-5xzk_uin5MXjk-s.{"e":1767225600000,"r":{"active":true,"sub":"client-a","exp":1767225600}}';
const BEFORE = ENTRY.expiresAt - 1;

describe('entry format v1', () => {
  it('stores the version, the MAC over key and payload, and the payload', () => {
    expect(encodeEntry(SECRET, KEY, ENTRY)).toBe(STORED);
  });

  it('reads back the entry from its key until it expires', () => {
    expect(decodeEntry(SECRET, KEY, STORED, BEFORE)).toEqual(ENTRY);
    expect(decodeEntry(SECRET, KEY, STORED, ENTRY.expiresAt)).toBeUndefined();
  });

  it('rejects the entry under any other key, including one that differs only by length', () => {
    expect(decodeEntry(SECRET, `${KEY}x`, STORED, BEFORE)).toBeUndefined();
    expect(decodeEntry(SECRET, KEY.slice(0, -1), STORED, BEFORE)).toBeUndefined();
    expect(decodeEntry(SECRET, `tenant:${KEY.slice('certbound:'.length)}`, STORED, BEFORE)).toBeUndefined();
  });

  it('rejects the entry under another secret', () => {
    const other = createSecretKey(Buffer.from('certbound-redis-test-secret-0002'));
    expect(decodeEntry(other, KEY, STORED, BEFORE)).toBeUndefined();
  });

  it('rejects any change to the stored text', () => {
    for (let i = 0; i < STORED.length; i++) {
      const changed =
        STORED.slice(0, i) + String.fromCharCode(STORED.charCodeAt(i) ^ 1) + STORED.slice(i + 1);
      expect(decodeEntry(SECRET, KEY, changed, BEFORE), `byte ${i}`).toBeUndefined();
    }
    expect(decodeEntry(SECRET, KEY, `${STORED} `, BEFORE)).toBeUndefined();
    expect(decodeEntry(SECRET, KEY, STORED.slice(0, -1), BEFORE)).toBeUndefined();
  });

  it('rejects authentic payloads that are not entries', () => {
    for (const payload of [
      { e: 'soon', r: {} },
      { e: Number.MAX_VALUE * 2, r: {} },
      { e: BEFORE + 10, r: [] },
    ]) {
      const stored = encodeEntry(SECRET, KEY, { expiresAt: payload.e, response: payload.r } as never);
      expect(decodeEntry(SECRET, KEY, stored, BEFORE)).toBeUndefined();
    }
  });
});
