import { describe, expect, it } from 'vitest';
import { pushAllFailure } from '../../src/cli/commands/push-all.js';
import { EXIT_CODES, OciError } from '../../src/errors.js';

/** How `push --all` ends when artifacts failed: the exit status is that of the first failed one, in file order. */
describe('pushAllFailure', () => {
  it('is nothing when no artifact failed', () => {
    expect(pushAllFailure([], 3)).toBeUndefined();
  });

  it("takes the first failed artifact's kind: auth exits 4", () => {
    const failure = pushAllFailure([
      { name: 'db', error: new OciError('DENIED', 'no', { kind: 'auth' }) },
      { name: 'web', error: new TypeError('boom') },
    ], 5)!;
    expect(failure).toMatchObject({ code: 'PUSH_ALL_FAILED', kind: 'auth', message: '2 of 5 artifacts failed: db, web' });
    expect(EXIT_CODES[failure.kind]).toBe(4);
    expect(failure.hint).toBe("the others were pushed; exit status 4 is that of 'db'");
  });

  it('an error that is no OciError (a bug) exits 70 as internal errors do, not 3', () => {
    const failure = pushAllFailure([{ name: 'web', error: new TypeError("Cannot read properties of undefined (reading 'digest')") }], 2)!;
    expect(failure.kind).toBe('internal');
    expect(EXIT_CODES[failure.kind]).toBe(70);
    expect(failure.hint).toBe("the others were pushed; exit status 70 is that of 'web'");
    expect(EXIT_CODES[pushAllFailure([{ name: 'web', error: new OciError('INTERNAL', 'never') }], 1)!.kind]).toBe(70);
  });
});
