import type { ArtifactReference } from '../../ref/reference.js';
import { schemeKey } from '../../registry/scheme-probe.js';
import type { RepositoryOptions } from './open-repository.js';

/**
 * Whether this run reached the reference's registry over plain HTTP (learned by the scheme probe on the first
 * exchange with it): Flux then needs `spec.insecure: true` to reach it too.
 */
export function reachedOverPlainHttp(ref: ArtifactReference, options: Pick<RepositoryOptions, 'cache' | 'insecure'>): boolean {
  return ref.kind === 'registry' && options.cache?.schemes.known(schemeKey(ref.endpoint, options.insecure)) === 'http';
}
