import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/ref/host.js';
import { mayUsePlainHttp, SchemeProbe, schemeKey } from '../../src/registry/scheme-probe.js';

describe('isLoopback', () => {
  it('knows the loopback names', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.1.2.3:80', '[::1]', '[::1]:5000']) {
      expect(isLoopback(h), h).toBe(true);
    }
    for (const h of ['ghcr.io', '10.0.0.1:5000', 'localhost.example.com', '[::2]:5000']) {
      expect(isLoopback(h), h).toBe(false);
    }
  });
});

describe('plain HTTP', () => {
  it('is tried only on loopback hosts or with --insecure', () => {
    expect(mayUsePlainHttp('127.0.0.1:5000', false)).toBe(true);
    expect(mayUsePlainHttp('registry.test:5000', false)).toBe(false);
    expect(mayUsePlainHttp('registry.test:5000', true)).toBe(true);
  });
});

describe('SchemeProbe', () => {
  it('lets requests waiting on a probe go once the scheme is learned, before the probe ends', async () => {
    const schemes = new SchemeProbe();
    const key = schemeKey('probe.test:1', true);
    const order: string[] = [];
    let endProbe = (): void => undefined;
    const probe = schemes.oneAtATime(key, undefined, 'the probe', async () => {
      order.push('probe sent');
      schemes.learn(key, 'http');
      await new Promise<void>((resolve) => (endProbe = resolve));
      order.push('probe done');
    });
    const waiter = schemes.oneAtATime(key, undefined, 'the second request', async () => {
      order.push(`second sent knowing ${schemes.known(key)}`);
    });
    await waiter;
    endProbe();
    await probe;
    expect(order).toEqual(['probe sent', 'second sent knowing http', 'probe done']);
  });

  it('ends the wait of a request whose command is interrupted', async () => {
    const schemes = new SchemeProbe();
    const key = schemeKey('probe.test:2', true);
    let endProbe = (): void => undefined;
    const probe = schemes.oneAtATime(key, undefined, 'the probe', () => new Promise<void>((resolve) => (endProbe = resolve)));
    const controller = new AbortController();
    const waiter = schemes.oneAtATime(key, controller.signal, 'the second request', async () => undefined);
    controller.abort();
    await expect(waiter).rejects.toMatchObject({ code: 'INTERRUPTED', message: 'interrupted during the second request' });
    endProbe();
    await probe;
  });
});
