import { describe, expect, it } from 'vitest';
import { redactSecrets, rememberPassword, rememberSecret } from '../../src/secrets.js';

describe('redactSecrets', () => {
  it('removes a registered password in every form a registry may echo it', () => {
    rememberPassword('bob', 'pw/with "quotes"&more');
    const basic = Buffer.from('bob:pw/with "quotes"&more').toString('base64');
    const text = `Authorization: Basic ${basic}; pw/with "quotes"&more; ${encodeURIComponent('pw/with "quotes"&more')}; ${JSON.stringify('pw/with "quotes"&more')}`;
    const out = redactSecrets(text);
    expect(out).toBe('Authorization: Basic REDACTED; REDACTED; REDACTED; "REDACTED"');
  });

  it('removes a registered token and its base64 form', () => {
    rememberSecret('tok-2c9e71aa');
    expect(redactSecrets(`got tok-2c9e71aa and ${Buffer.from('tok-2c9e71aa').toString('base64')}`)).toBe('got REDACTED and REDACTED');
  });

  it('removes any Authorization-style value, registered or not, and keeps prose', () => {
    expect(redactSecrets('header was Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl')).toBe('header was Bearer REDACTED');
    expect(redactSecrets('authorization: basic dXNlcjpwYXNzd29yZA==')).toBe('authorization: basic REDACTED');
    expect(redactSecrets("registry r.io asks for 'Basic authentication' or Bearer tokens")).toBe("registry r.io asks for 'Basic authentication' or Bearer tokens");
  });

  it('leaves values too short to be secrets alone', () => {
    rememberSecret('abc');
    expect(redactSecrets('abc abcdef')).toBe('abc abcdef');
  });
});
