import { describe, expect, it } from 'vitest';
import { isOciError } from '../../src/errors.js';
import { fluxProvider, fluxRequest, fluxVerification } from '../../src/cli/flux-flags.js';
import { parseReference } from '../../src/ref/reference.js';

describe('push --emit-flux / -o flux flags (cli/flux-flags.ts)', () => {
  it("spec.provider: the command's --provider, else the global --registry-provider; generic is left out", () => {
    expect(fluxProvider('generic', undefined)).toBeUndefined();
    expect(fluxProvider('aws', undefined)).toBe('aws');
    expect(fluxProvider('generic', 'gcp')).toBe('gcp');
    expect(fluxProvider(undefined, 'generic')).toBeUndefined();
  });

  it('spec.verify per signing mode; a keyless push that signed nothing has no identity to pin and is refused', () => {
    expect(fluxVerification({ kind: 'none' })).toBeUndefined();
    expect(fluxVerification({ kind: 'key' })).toEqual({ kind: 'cosign-key' });
    expect(fluxVerification({ kind: 'keyless', trustedRoot: false, signer: { identity: 'me@example.com', issuer: 'https://issuer' } }))
      .toEqual({ kind: 'cosign-keyless', issuer: 'https://issuer', subject: 'me@example.com', trustedRoot: false });
    let refused: unknown;
    try {
      fluxVerification({ kind: 'keyless', trustedRoot: false });
    } catch (err) {
      refused = err;
    }
    expect(isOciError(refused, 'KEYLESS_IDENTITY_UNKNOWN')).toBe(true);
    expect((refused as { kind: string }).kind).toBe('usage');
  });

  it('defaults, normalised values, and flags refused without Flux output or for a layout', async () => {
    const ref = parseReference('oci://ghcr.io/org/web:v1');
    expect(await fluxRequest({}, ref)).toBeUndefined();
    expect(await fluxRequest({ output: 'flux', fluxPath: 'apps/web' }, ref)).toEqual({ file: undefined, stdout: true, name: undefined, namespace: 'flux-system', interval: '5m', path: './apps/web' });
    await expect(fluxRequest({ fluxInterval: '10m' }, ref)).rejects.toThrow('--flux-interval acts only with --emit-flux or -o flux');
    await expect(fluxRequest({ output: 'flux' }, parseReference('oci-layout://./store:v1'))).rejects.toThrow('not from an OCI layout');
    await expect(fluxRequest({ output: 'flux', fluxName: 'Web' }, ref)).rejects.toThrow("--flux-name 'Web' is not a Kubernetes name");
  });
});
