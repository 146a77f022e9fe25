import { describe, expect, it } from 'vitest';
import { checkFluxInterval, checkFluxName, checkFluxNamespace, checkFluxPath, fluxName } from '../../src/ops/support/flux-fields.js';

describe('Flux object fields (ops/support/flux-fields.ts)', () => {
  it('derives a DNS-1123 label from the last path segment of a repository or an artifact name', () => {
    expect(fluxName('org/apps/web')).toBe('web');
    expect(fluxName('team/web_app.v2')).toBe('web-app-v2');
    expect(fluxName('Web__Prod')).toBe('web-prod');
    expect(fluxName('_x_')).toBe('x');
    expect(fluxName(`org/${'a'.repeat(70)}`)).toBe('a'.repeat(63));
    expect(fluxName(`${'a'.repeat(62)}-b`)).toBe('a'.repeat(62)); // cut at 63, then no trailing '-'
    expect(() => fluxName('org/___')).toThrow("cannot make a Kubernetes name from '___'");
  });

  it('checks names, namespaces, intervals and paths as Kubernetes and the CRDs do', () => {
    expect(checkFluxName('--flux-name', 'web.prod-1')).toBe('web.prod-1');
    for (const bad of ['Web', '-web', 'web-', 'a..b', 'a_b', '', 'a'.repeat(64)]) expect(() => checkFluxName('--flux-name', bad)).toThrow('is not a Kubernetes name');
    expect(checkFluxNamespace('--flux-namespace', 'flux-system')).toBe('flux-system');
    expect(() => checkFluxNamespace('--flux-namespace', 'a.b')).toThrow('is not a Kubernetes namespace');
    for (const good of ['5m', '1h30m', '90s', '500ms', '1.5h']) expect(checkFluxInterval('--flux-interval', good)).toBe(good);
    for (const bad of ['5', '5d', '', 'm', '-1m', '5 m']) expect(() => checkFluxInterval('--flux-interval', bad)).toThrow('is not a Flux interval');
    expect(checkFluxPath('--flux-path', 'apps/web')).toBe('./apps/web');
    expect(checkFluxPath('--flux-path', './apps//web/')).toBe('./apps/web');
    expect(checkFluxPath('--flux-path', '.')).toBe('./');
    for (const bad of ['/etc', '../x', 'a/../../b', 'a\\b', 'a\nb']) expect(() => checkFluxPath('--flux-path', bad)).toThrow('is not a path inside the artifact');
  });
});
