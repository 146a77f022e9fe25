import type { Readable } from 'node:stream';
import type {
  BlobBody, Descriptor, FetchedManifest, PushBlobResult, Repository, StreamPushOptions, TransferOptions,
} from '../oci/types.js';
import type { RegistryReference } from '../ref/reference.js';
import { Authenticator } from './auth.js';
import { fetchBlob, openBlob } from './blob-download.js';
import { mountBlob } from './blob-mount.js';
import { blobExists, pushBlob, pushBlobStream, type PushSettings } from './blob-push.js';
import { resolveCredential } from './credentials.js';
import { apiRootUrl } from './distribution-urls.js';
import { HttpClient, type RequestLogger } from './http.js';
import { deleteManifest, getManifest, putManifest, resolveManifest } from './manifests.js';
import { assertProviderServes } from './providers/hosts.js';
import type { ProviderName } from './providers/types.js';
import type { FallbackIndexSeen } from '../oci/referrers.js';
import { ReferrersListing } from './referrers-listing.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { createRegistryCache, type RegistryCache } from './registry-cache.js';
import { retryPolicy, type RetryOptions } from './retry-policy.js';
import { repositoryScope } from './scopes.js';
import { listTags } from './tag-list.js';

/**
 * One repository on a registry as a `Repository`: credentials resolved once (credentials.ts, auth.ts), the command's signal joined
 * to each call's, and each call handed to the module of its job: manifests.ts, blob-download.ts, blob-push.ts
 * (with upload.ts), blob-mount.ts, tag-list.ts, referrers-listing.ts.
 */

export interface RegistryClientOptions {
  /** `user:password` (basic) or a bare token (bearer), as Flux's `--creds`. */
  creds?: string;
  insecure?: boolean;
  /** The command's signal (global --timeout, SIGINT); per-call signals are combined with it. */
  signal?: AbortSignal;
  userAgent?: string;
  dockerConfigDir?: string;
  onRequest?: RequestLogger;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  retry?: RetryOptions;
  /** Upload chunk size, and the size up to which a blob goes in one PUT (default 8 MiB: a streamed push holds two). */
  chunkSize?: number;
  /** Where credentials come from besides --creds and the Docker config (Flux's --provider). */
  provider?: ProviderName;
  /** What this run has learned about registries (challenges, tokens, schemes); default: this repository's own. */
  cache?: RegistryCache;
}

const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export function openRegistryRepository(ref: RegistryReference, options: RegistryClientOptions = {}): RegistryRepository {
  return new RegistryRepository(ref, options);
}

/** One repository on a registry, over the OCI distribution API. */
export class RegistryRepository implements Repository {
  readonly displayName: string;
  private readonly session: RepositorySession;
  private readonly pushSettings: PushSettings;
  private readonly referrersListing: ReferrersListing;

  constructor(ref: RegistryReference, private readonly options: RegistryClientOptions = {}) {
    this.displayName = `${ref.registry}/${ref.repository}`;
    const cache = options.cache ?? createRegistryCache();
    const http = new HttpClient(ref.endpoint, { ...options, schemes: cache.schemes });
    // A cloud identity for another host is a usage error now, before any request is made.
    if (options.provider !== undefined && options.provider !== 'generic') assertProviderServes(options.provider, ref.registry);
    const auth = new Authenticator(http, () => resolveCredential(ref.registry, {
      creds: options.creds,
      dockerConfigDir: options.dockerConfigDir,
      repository: ref.repository,
      provider: options.provider,
      providerHttp: {
        caFile: options.caFile, certFile: options.certFile, keyFile: options.keyFile, insecure: options.insecure, userAgent: options.userAgent,
        signal: options.signal, schemes: cache.schemes,
      },
      providerCredentials: cache.providerCredentials,
    }), cache);
    this.session = {
      host: ref.endpoint,
      name: ref.repository,
      pull: [repositoryScope(ref.repository)],
      push: [repositoryScope(ref.repository, true)],
      send: (req, scopes) => auth.send(req, scopes),
    };
    this.pushSettings = { chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE, retry: retryPolicy(options.retry) };
    this.referrersListing = new ReferrersListing(this.session, this);
  }

  /** The command's signal (deadline, Ctrl-C) joined to the call's own. */
  private signal(call?: AbortSignal): AbortSignal | undefined {
    const global = this.options.signal;
    if (global === undefined || call === undefined) return call ?? global;
    return AbortSignal.any([global, call]);
  }

  getManifest(reference: string, options: { signal?: AbortSignal; accept?: readonly string[] } = {}): Promise<FetchedManifest> {
    return getManifest(this.session, reference, this.signal(options.signal), options.accept);
  }

  resolve(reference: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor | undefined> {
    return resolveManifest(this.session, reference, this.signal(options.signal));
  }

  putManifest(reference: string, bytes: Buffer, mediaType: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    return putManifest(this.session, reference, bytes, mediaType, this.signal(options.signal));
  }

  deleteManifest(digest: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return deleteManifest(this.session, digest, this.signal(options.signal));
  }

  /** `GET /v2/` (distribution spec, end-1) with the push scope: the token or Basic handshake is done and cached. */
  async checkWritable(options: { signal?: AbortSignal } = {}): Promise<void> {
    const what = 'the registry API (/v2/)';
    const res = await this.session.send({ method: 'GET', url: apiRootUrl(), what, signal: this.signal(options.signal) }, this.session.push);
    if (res.status !== 200) throw await responseError(res, this.session.host, what);
    res.body.resume();
  }

  hasBlob(digest: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return blobExists(this.session, digest, this.session.pull, this.signal(options.signal));
  }

  openBlob(descriptor: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    return openBlob(this.session, descriptor, this.signal(options.signal), options.onProgress);
  }

  fetchBlob(descriptor: Descriptor, options: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Buffer> {
    return fetchBlob(this.session, descriptor, this.signal(options.signal), options.maxBytes);
  }

  pushBlob(descriptor: Descriptor, body: BlobBody, options: TransferOptions = {}): Promise<PushBlobResult> {
    return pushBlob(this.session, this.pushSettings, descriptor, body, this.signal(options.signal), options);
  }

  pushBlobStream(mediaType: string, source: Readable, options: StreamPushOptions = {}): Promise<Descriptor> {
    return pushBlobStream(this.session, this.pushSettings, mediaType, source, this.signal(options.signal), options);
  }

  mountBlob(descriptor: Descriptor, fromRepository: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return mountBlob(this.session, descriptor, fromRepository, this.signal(options.signal));
  }

  listTags(options: { signal?: AbortSignal; pageSize?: number } = {}): Promise<string[]> {
    return listTags(this.session, this.signal(options.signal), options.pageSize);
  }

  referrers(digest: string, options: { signal?: AbortSignal; artifactType?: string; onFallbackIndex?: FallbackIndexSeen } = {}): Promise<Descriptor[]> {
    return this.referrersListing.list(digest, this.signal(options.signal), options.artifactType, options.onFallbackIndex);
  }

  /** Connections are pooled per endpoint for the whole process (closeAllConnections() ends them). */
  async close(): Promise<void> {}
}
