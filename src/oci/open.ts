import type { ArtifactReference } from '../ref/reference.js';
import type { Repository } from './types.js';

/** Options for reaching a repository; the layout ignores the network ones. */
export interface RepositoryOptions {
  creds?: string;
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  userAgent?: string;
  signal?: AbortSignal;
  onRequest?: (info: RequestLog) => void;
  /** Registry credentials from a cloud identity (Flux's --provider); 'generic' = --creds and the Docker config. */
  provider?: 'generic' | 'aws' | 'azure' | 'gcp';
  /** Create an OCI layout that does not exist yet (commands that write). */
  create?: boolean;
}

export interface RequestLog {
  method: string;
  url: string;
  status?: number;
  durationMs: number;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  error?: string;
}

/**
 * The one place that decides what is behind a reference. Implementations are imported lazily so a command
 * that only touches a layout never loads the HTTP stack (and vice versa).
 */
export async function openRepository(ref: ArtifactReference, options: RepositoryOptions = {}): Promise<Repository> {
  if (ref.kind === 'layout') {
    const { openLayoutRepository } = await import('../layout/repository.js');
    return openLayoutRepository(ref, { create: options.create ?? false });
  }
  const { openRegistryRepository } = await import('../registry/client.js');
  return openRegistryRepository(ref, options);
}
