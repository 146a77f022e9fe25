import type { ArtifactReference } from '../../ref/reference.js';
// Type-only: erased at build time, so the registry client and its HTTP stack still load lazily (below).
import type { RegistryClientOptions } from '../../registry/client.js';
import type { Repository } from '../../oci/types.js';

export type { RequestLog } from '../../registry/http.js';

/** Options for reaching a repository (documented on the registry client); the layout ignores the network ones. */
export interface RepositoryOptions
  extends Pick<RegistryClientOptions, 'creds' | 'insecure' | 'caFile' | 'certFile' | 'keyFile' | 'userAgent' | 'signal' | 'onRequest' | 'provider' | 'cache'> {
  /** Create an OCI layout that does not exist yet (commands that write). */
  create?: boolean;
}

/**
 * The one place that decides what is behind a reference. Implementations are imported lazily so a command
 * that only touches a layout never loads the HTTP stack (and vice versa).
 */
export async function openRepository(ref: ArtifactReference, options: RepositoryOptions = {}): Promise<Repository> {
  if (ref.kind === 'layout') {
    const { openLayoutRepository } = await import('../../layout/repository.js');
    return openLayoutRepository(ref, { create: options.create ?? false, signal: options.signal });
  }
  const { openRegistryRepository } = await import('../../registry/client.js');
  return openRegistryRepository(ref, options);
}
