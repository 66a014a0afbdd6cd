import { describe, expect, it } from 'vitest';
import { validateIntrospection } from '../src/introspection/introspection-response.js';
import { OTHER_THUMBPRINT as JKT, APPENDIX_A_THUMBPRINT as THUMBPRINT } from './support/certificates.js';
import { outcomeOf as codeOf } from './support/outcomes.js';

const ISSUER = 'https://as.example.com';
const rules = { issuer: ISSUER, audience: ['https://api.example.com'] };

describe('validateIntrospection', () => {
  const active = {
    active: true,
    iss: ISSUER,
    aud: 'https://api.example.com',
    token_type: 'Bearer',
    exp: 2e9,
  };

  it('reads an active, bound response', () => {
    const validated = validateIntrospection(
      { ...active, sub: 'u', client_id: 'c', scope: 'a b', cnf: { 'x5t#S256': THUMBPRINT } },
      rules,
    );
    expect(validated).toMatchObject({ format: 'opaque', subject: 'u', clientId: 'c', scopes: ['a', 'b'] });
    expect(validated.confirmation).toEqual({ x5t: Buffer.from(THUMBPRINT, 'ascii'), jkt: undefined });
    expect(validated.dpopTokenType).toBe(false);
  });

  it('gives the whole validated token: frozen claims, times, scopes and the confirmation bytes', () => {
    const response = {
      ...active,
      sub: 'u',
      client_id: 'c',
      scope: 'a b',
      iat: 1.9e9,
      cnf: { 'x5t#S256': THUMBPRINT },
    };
    const validated = validateIntrospection(response, rules);
    expect(validated).toEqual({
      format: 'opaque',
      issuer: rules.issuer,
      claims: response,
      subject: 'u',
      clientId: 'c',
      scopes: ['a', 'b'],
      times: { exp: 2e9, nbf: undefined, iat: 1.9e9 },
      confirmation: { x5t: Buffer.from(THUMBPRINT, 'ascii'), jkt: undefined },
      dpopTokenType: false,
    });
    expect(validated.claims).not.toBe(response);
    expect(Object.isFrozen(validated.claims)).toBe(true);
  });

  it('reads a response without cnf as an unbound token', () => {
    expect(validateIntrospection(active, rules).confirmation).toBeUndefined();
  });

  it('reads a DPoP-bound response: token_type DPoP (any case) and cnf.jkt, left to the verifier to decide', () => {
    const validated = validateIntrospection({ ...active, token_type: 'DPoP', cnf: { jkt: JKT } }, rules);
    expect(validated.confirmation).toEqual({ x5t: undefined, jkt: JKT });
    expect(validated.dpopTokenType).toBe(true);
    expect(validateIntrospection({ ...active, token_type: 'dpop' }, rules)).toMatchObject({
      confirmation: undefined,
      dpopTokenType: true,
    });
    expect(validateIntrospection({ ...active, cnf: { jkt: JKT } }, rules).dpopTokenType).toBe(false);
  });

  it.each([
    ['active false', { active: false }, 'token_inactive'],
    ['active "true" (a string)', { ...active, active: 'true' }, 'token_inactive'],
    ['active 1', { ...active, active: 1 }, 'token_inactive'],
    ['no active member', { iss: ISSUER }, 'token_inactive'],
    ['another issuer', { ...active, iss: 'https://evil.example.com' }, 'token_issuer_mismatch'],
    ['another audience', { ...active, aud: ['https://other.example.com'] }, 'token_audience_mismatch'],
    ['an audience of the wrong type', { ...active, aud: 42 }, 'token_malformed'],
    ['token_type mac', { ...active, token_type: 'mac' }, 'token_type_invalid'],
    ['token_type DPoP-bound (not a type)', { ...active, token_type: 'DPoP-bound' }, 'token_type_invalid'],
    ['cnf with a malformed jkt', { ...active, cnf: { jkt: 'x' } }, 'cnf_malformed'],
    ['cnf with an unknown member beside jkt', { ...active, cnf: { jkt: JKT, x5t: 'y' } }, 'cnf_unsupported'],
    ['a padded x5t#S256', { ...active, cnf: { 'x5t#S256': `${THUMBPRINT}=` } }, 'cnf_malformed'],
    ['exp as a string', { ...active, exp: '2000000000' }, 'token_malformed'],
    ['sub as a number', { ...active, sub: 7 }, 'token_malformed'],
  ])('refuses %s', (_name, response, code) => {
    expect(codeOf(() => validateIntrospection(response, rules))).toBe(code);
  });

  it('accepts responses without the optional members, and token_type in any case', () => {
    expect(codeOf(() => validateIntrospection({ active: true }, rules))).toBe('accepted');
    expect(codeOf(() => validateIntrospection({ ...active, token_type: 'bearer' }, rules))).toBe('accepted');
  });
});
