import type { RepositoryOptions } from './open-repository.js';
import type { ProgressListener } from '../../oci/types.js';

/**
 * What every operation receives besides its own options. Operations never print: they report steps, notices and
 * transfer progress through these callbacks, and the CLI decides how to show them.
 */
export interface OpContext {
  signal: AbortSignal;
  repositoryOptions: RepositoryOptions;
  /**
   * Two-reference commands (copy, diff of two artifacts): the credentials of the source and of the destination,
   * layered over repositoryOptions when each side is opened, so neither side receives the other's.
   */
  sides?: { source: Pick<RepositoryOptions, 'creds' | 'provider'>; destination: Pick<RepositoryOptions, 'creds' | 'provider'> };
  onProgress?: ProgressListener;
  /** A short step in progress ("packing ./deploy"), shown as spinner text or one CI line. */
  onStep?: (message: string) => void;
  /** Something the user should know but that is not a failure ("source taken from git"). */
  onNotice?: (message: string) => void;
  cwd?: string;
  env?: Record<string, string | undefined>;
}
