import { describe, expect, it } from 'vitest';
import { Code, EXIT_CODES, isOciError, OciError, registryErrorCode, usageError, type ErrorCode } from '../../src/errors.js';

describe('OciError codes', () => {
  it('refuses a code outside the list at compile time (npm run typecheck checks these lines)', () => {
    // Each line below compiles only because the misspelt code is a type error that @ts-expect-error absorbs;
    // were ErrorCode a plain string again, tsc would report every directive here as unused.
    // @ts-expect-error 'MANIFEST_UNKOWN' is not an ErrorCode
    const made = new OciError('MANIFEST_UNKOWN', 'typo');
    // @ts-expect-error 'FLAG_INVALDI' is not an ErrorCode
    usageError('FLAG_INVALDI', 'typo');
    // @ts-expect-error a comparison with a code that cannot occur has no overlap with ErrorCode
    expect(made.code === 'NAME_UNKOWN').toBe(false);
    // @ts-expect-error matching on an unknown code
    expect(isOciError(made, 'DENEID')).toBe(false);
    const status: ErrorCode = 'HTTP_502'; // an answer without a listed code is named by its status
    expect(status).toBe('HTTP_502');
  });

  it('lets kind alone decide the exit status, registry by default', () => {
    expect(EXIT_CODES[new OciError(Code.ManifestUnknown, 'gone').kind]).toBe(3);
    expect(EXIT_CODES[usageError('FLAG_INVALID', 'bad').kind]).toBe(2);
    expect(EXIT_CODES[new OciError(Code.Denied, 'no', { kind: 'auth' }).kind]).toBe(4);
    expect(EXIT_CODES[new OciError('INTERRUPTED', 'stop', { kind: 'interrupted' }).kind]).toBe(130);
  });

  it('exits 70 for code INTERNAL (a state the code should never reach), not as a registry failure', () => {
    expect(new OciError('INTERNAL', 'never').kind).toBe('internal');
    expect(EXIT_CODES[new OciError('INTERNAL', 'never').kind]).toBe(70);
  });

  it('matches an error by one of its codes', () => {
    const denied = new OciError(Code.Denied, 'no', { kind: 'auth' });
    expect(isOciError(denied)).toBe(true);
    expect(isOciError(denied, Code.Unauthorized, Code.Denied)).toBe(true);
    expect(isOciError(denied, Code.ManifestUnknown)).toBe(false);
    expect(isOciError(new Error('plain'), Code.Denied)).toBe(false);
  });

  it("keeps a registry's own code when the distribution spec lists it", () => {
    expect(registryErrorCode('MANIFEST_UNKNOWN')).toBe('MANIFEST_UNKNOWN');
    expect(registryErrorCode('TOOMANYREQUESTS')).toBe('TOOMANYREQUESTS');
    expect(registryErrorCode('SOMETHING_ELSE')).toBeUndefined();
    expect(registryErrorCode('')).toBeUndefined();
    expect(registryErrorCode(undefined)).toBeUndefined();
  });
});
