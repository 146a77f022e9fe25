import { describe, expect, it } from 'vitest';
import { proxyFor } from '../../src/registry/proxy-env.js';

const P = 'http://proxy:3128';

describe('proxyFor', () => {
  it('takes HTTPS_PROXY for https and HTTP_PROXY for http, either case, adding a missing scheme', () => {
    expect(proxyFor(new URL('https://r.io/v2/'), { HTTPS_PROXY: P })).toBe(P);
    expect(proxyFor(new URL('https://r.io/v2/'), { https_proxy: 'proxy:3128' })).toBe(P);
    expect(proxyFor(new URL('http://r.io/v2/'), { HTTPS_PROXY: P })).toBeUndefined();
    expect(proxyFor(new URL('http://r.io/v2/'), { http_proxy: P })).toBe(P);
    expect(proxyFor(new URL('https://r.io/v2/'), {})).toBeUndefined();
  });

  it('bypasses NO_PROXY hosts, domains, ports, IPs and CIDR blocks', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: P, NO_PROXY: noProxy });
    expect(proxyFor(new URL('https://r.io/'), env('*'))).toBeUndefined();
    expect(proxyFor(new URL('https://a.corp.example/'), env('other.io, .corp.example'))).toBeUndefined();
    expect(proxyFor(new URL('https://a.corp.example/'), env('corp.example'))).toBeUndefined();
    expect(proxyFor(new URL('https://notcorp.example/'), env('corp.example'))).toBe(P);
    expect(proxyFor(new URL('https://r.io:5000/'), env('r.io:5000'))).toBeUndefined();
    expect(proxyFor(new URL('https://r.io:5001/'), env('r.io:5000'))).toBe(P);
    expect(proxyFor(new URL('https://r.io/'), env('r.io:443'))).toBeUndefined();
    expect(proxyFor(new URL('https://10.1.2.3/'), env('10.0.0.0/8'))).toBeUndefined();
    expect(proxyFor(new URL('https://11.1.2.3/'), env('10.0.0.0/8'))).toBe(P);
    expect(proxyFor(new URL('https://[::1]:5000/'), env('[::1]:5000'))).toBeUndefined();
    expect(proxyFor(new URL('https://[::1]:5000/'), env('::1'))).toBeUndefined();
    // Loopback is not exempt by itself (so a local proxy can be tested and used).
    expect(proxyFor(new URL('https://127.0.0.1:5000/'), env(''))).toBe(P);
  });
});
