import { expect } from 'vitest';
import { OciError } from '../../src/errors.js';

/** Await a promise that must reject with an OciError, and return that error for further checks. */
export async function failure(promise: Promise<unknown>): Promise<OciError> {
  const outcome = await promise.then(() => ({ resolved: true as const }), (err: unknown) => ({ resolved: false as const, err }));
  if (outcome.resolved) throw new Error('expected a failure, but the operation succeeded');
  expect(outcome.err).toBeInstanceOf(OciError);
  return outcome.err as OciError;
}
