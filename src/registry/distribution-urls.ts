/**
 * Every path of the OCI distribution API this client requests, in one place, each builder naming the endpoint of
 * the spec's "Endpoints" table it follows (end-1 ... end-14). Repository names, tags and digests arrive checked by
 * src/ref (lower-case path components, the tag and digest grammars), so they go into the path as they are.
 * The upload endpoints end-5, end-13 and end-14 (PATCH, GET, DELETE of a session) use the session's `Location`
 * as the registry handed it out (see handed-out URLs in http.ts); only end-6 adds to it.
 */

/** end-1 `GET /v2/`: the API version check, and where a registry's auth challenge is asked for. */
export function apiRootUrl(): string {
  return '/v2/';
}

/** end-3 `GET`/`HEAD`, end-7 `PUT`, end-9 `DELETE` `/v2/<name>/manifests/<reference>` (a tag or a digest). */
export function manifestUrl(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

/** end-2 `GET`/`HEAD` (end-10 `DELETE`) `/v2/<name>/blobs/<digest>`. */
export function blobUrl(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/** end-4a `POST /v2/<name>/blobs/uploads/`: opens an upload session; its `Location` is where the content goes. */
export function uploadSessionUrl(repository: string): string {
  return `/v2/${repository}/blobs/uploads/`;
}

/** end-6 `PUT <location>?digest=<digest>`: the last chunk (or the whole blob) closes the session at `location`. */
export function uploadCompletionUrl(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

/** end-11 `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other_name>`: a cross-repository mount. */
export function blobMountUrl(repository: string, digest: string, fromRepository: string): string {
  return `${uploadSessionUrl(repository)}?${new URLSearchParams({ mount: digest, from: fromRepository })}`;
}

/** end-8b `GET /v2/<name>/tags/list?n=<integer>`: the first page; the registry's `Link` header names the next. */
export function tagListUrl(repository: string, pageSize: number): string {
  return `/v2/${repository}/tags/list?n=${pageSize}`;
}

/** end-12a `GET /v2/<name>/referrers/<digest>`, end-12b with `?artifactType=<artifactType>`. */
export function referrersUrl(repository: string, digest: string, artifactType?: string): string {
  const query = artifactType !== undefined ? `?${new URLSearchParams({ artifactType })}` : '';
  return `/v2/${repository}/referrers/${digest}${query}`;
}
