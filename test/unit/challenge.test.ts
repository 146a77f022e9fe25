import { describe, it, expect } from 'vitest';
import { parseWWWAuthenticate } from '../../src/registry/challenge.js';

describe('parseWWWAuthenticate', () => {
  it('parses a distribution bearer challenge', () => {
    const header = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:app:pull"';
    expect(parseWWWAuthenticate(header)).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:app:pull' },
      },
    ]);
  });

  it('keeps commas inside quoted values (multi-action scopes)', () => {
    const [c] = parseWWWAuthenticate('Bearer realm="https://a/token",scope="repository:app:pull,push",error="insufficient_scope"');
    expect(c!.params.scope).toBe('repository:app:pull,push');
    expect(c!.params.error).toBe('insufficient_scope');
  });

  it('unescapes quoted-pairs', () => {
    const [c] = parseWWWAuthenticate('Basic realm="say \\"hi\\", \\\\ ok"');
    expect(c!.params.realm).toBe('say "hi", \\ ok');
  });

  it('splits several challenges in one header, keeping their parameters apart', () => {
    const got = parseWWWAuthenticate('Basic realm="reg, one", Bearer realm="https://t/x", service=svc ,  Negotiate');
    expect(got.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(got[0]!.params).toEqual({ realm: 'reg, one' });
    expect(got[1]!.params).toEqual({ realm: 'https://t/x', service: 'svc' });
    expect(got[2]!.params).toEqual({});
  });

  it('is case-insensitive for scheme and parameter names, not for values', () => {
    const [c] = parseWWWAuthenticate('BEARER Realm="https://A/Token", SERVICE="Reg"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://A/Token', service: 'Reg' } });
  });

  it('accepts spaces around "=" and unquoted token values', () => {
    const [c] = parseWWWAuthenticate('Basic realm = Registry , charset="UTF-8"');
    expect(c!.params).toEqual({ realm: 'Registry', charset: 'UTF-8' });
  });

  it('reads token68 with padding and continues with the next challenge', () => {
    const got = parseWWWAuthenticate('Negotiate YIIBhg==, Basic realm="r"');
    expect(got).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'YIIBhg==' },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  it('keeps the first of duplicated parameters', () => {
    const [c] = parseWWWAuthenticate('Bearer realm="first", realm="second"');
    expect(c!.params.realm).toBe('first');
  });

  it('returns nothing for an empty or separator-only header', () => {
    expect(parseWWWAuthenticate('')).toEqual([]);
    expect(parseWWWAuthenticate(' , ,')).toEqual([]);
  });

  it('survives garbage and an unterminated quote without hanging', () => {
    expect(parseWWWAuthenticate('Bearer realm="https://x/t')[0]!.params.realm).toBe('https://x/t');
    const got = parseWWWAuthenticate('"@@" ;; Basic realm="r"');
    expect(got.at(-1)).toEqual({ scheme: 'basic', params: { realm: 'r' } });
  });

  it('handles an empty parameter value before the next parameter', () => {
    const [c] = parseWWWAuthenticate('Bearer realm="", service=reg');
    expect(c!.params).toEqual({ realm: '', service: 'reg' });
  });
});
