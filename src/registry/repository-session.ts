import type { HttpRequest, HttpResponse } from './http.js';

/**
 * What each job of the registry client (manifests, blob download and push, mount, tag and referrers listing)
 * needs of the one repository it works on: its names, and a way to send a request with credentials for a scope.
 * client.ts makes one per repository and hands it to each job.
 */
export interface RepositorySession {
  /** The registry endpoint (`host[:port]`), for messages. */
  readonly host: string;
  /** The repository's name on the registry (`team/app`). */
  readonly name: string;
  /** Token scopes for reading the repository, and for reading and writing it. */
  readonly pull: string[];
  readonly push: string[];
  /** Sends with credentials for `scopes`, answering the registry's challenge (auth.ts). */
  send(req: HttpRequest, scopes: string[]): Promise<HttpResponse>;
}
