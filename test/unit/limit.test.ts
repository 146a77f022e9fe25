import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../src/ops/support/limit.js';

describe('createLimiter', () => {
  it('never runs more than the bound at once, and runs every task', async () => {
    const limit = createLimiter(3);
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, i) => limit(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      active--;
      done.push(i);
      return i;
    })));
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('frees the slot of a failed task and passes its error on', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });

  it('refuses a bound below one', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
  });
});
