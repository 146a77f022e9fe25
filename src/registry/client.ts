import { Readable } from 'node:stream';
import { Code, isOciError, OciError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, MediaType } from '../oci/mediatypes.js';
import { labelOf } from '../oci/progress-label.js';
import { descriptorsIn, fallbackReferrers } from '../oci/referrers.js';
import type {
  BlobBody, Descriptor, FetchedManifest, ImageIndex, PushBlobResult, Repository, TransferOptions,
} from '../oci/types.js';
import { digestOf, isDigest, VerifyingStream, verifyBytes } from '../ref/digest.js';
import type { RegistryReference } from '../ref/reference.js';
import { Authenticator, repositoryScope, resolveCredential } from './auth.js';
import {
  apiRootUrl, blobMountUrl, blobUrl, manifestUrl, referrersUrl, tagListUrl,
} from './distribution-urls.js';
import { streamError } from './connection-errors.js';
import { handedOutUrl } from './handed-out-urls.js';
import { HttpClient, type HttpRequest, type HttpResponse, type RequestLogger } from './http.js';
import { responseError } from './registry-errors.js';
import { discardBody, readAtMost } from './response-body.js';
import { assertProviderServes } from './providers/hosts.js';
import type { ProviderName } from './providers/types.js';
import { retryPolicy, type RetryOptions, type RetryPolicy } from './retry-policy.js';
import { uploadChunked, uploadMonolithic, type UploadContext } from './upload.js';

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
  /** Upload chunk size, and the size up to which a blob goes in one PUT (default 16 MiB). */
  chunkSize?: number;
  /** Where credentials come from besides --creds and the Docker config (Flux's --provider). */
  provider?: ProviderName;
}

const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
const DEFAULT_FETCH_MAX = 4 * 1024 * 1024;
const DEFAULT_TAG_PAGE = 1000;
const MAX_TAG_PAGES = 10_000;
/** Far beyond any real repository; bounds the memory a registry paging on and on can make us hold. */
const MAX_TAGS = 1_000_000;
const MAX_LIST_BODY = 16 * 1024 * 1024;
/** Referrers pages followed, and referrers held in all: far beyond any real artifact's signatures and attestations. */
const MAX_REFERRER_PAGES = 1000;
const MAX_REFERRERS = 100_000;
const PROGRESS_STEP = 256 * 1024;
/** A broken blob download is resumed while it makes progress, up to this many times in all. */
const MAX_BLOB_RESUMES = 32;
/** Resumptions in a row that may bring no new byte before the download gives up. */
const MAX_STALLED_RESUMES = 3;

export function openRegistryRepository(ref: RegistryReference, options: RegistryClientOptions = {}): RegistryRepository {
  return new RegistryRepository(ref, options);
}

/** One repository on a registry, over the OCI distribution API. */
export class RegistryRepository implements Repository {
  readonly displayName: string;
  private readonly host: string;
  private readonly name: string;
  private readonly http: HttpClient;
  private readonly auth: Authenticator;
  private readonly chunkSize: number;
  private readonly retry: RetryPolicy;
  /** undefined until probed; then whether GET /referrers answers with an image index. */
  private referrersApi: boolean | undefined;

  constructor(ref: RegistryReference, private readonly options: RegistryClientOptions = {}) {
    this.displayName = `${ref.registry}/${ref.repository}`;
    this.host = ref.endpoint;
    this.name = ref.repository;
    this.http = new HttpClient(ref.endpoint, options);
    // A cloud identity for another host is a usage error now, before any request is made.
    if (options.provider !== undefined && options.provider !== 'generic') assertProviderServes(options.provider, ref.registry);
    this.auth = new Authenticator(this.http, () => resolveCredential(ref.registry, {
      creds: options.creds,
      dockerConfigDir: options.dockerConfigDir,
      repository: ref.repository,
      provider: options.provider,
      providerHttp: { caFile: options.caFile, certFile: options.certFile, keyFile: options.keyFile, insecure: options.insecure, userAgent: options.userAgent, signal: options.signal },
    }));
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.retry = retryPolicy(options.retry);
  }

  private signal(call?: AbortSignal): AbortSignal | undefined {
    const global = this.options.signal;
    if (global === undefined || call === undefined) return call ?? global;
    return AbortSignal.any([global, call]);
  }

  private get pull(): string[] {
    return [repositoryScope(this.name)];
  }

  private get push(): string[] {
    return [repositoryScope(this.name, true)];
  }

  private manifestWhat(reference: string): string {
    return `manifest ${this.name}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  private send(req: HttpRequest, scopes: string[]): Promise<HttpResponse> {
    return this.auth.send(req, scopes);
  }

  async getManifest(reference: string, options: { signal?: AbortSignal; accept?: readonly string[] } = {}): Promise<FetchedManifest> {
    const what = this.manifestWhat(reference);
    const signal = this.signal(options.signal);
    const res = await this.send({
      method: 'GET',
      url: manifestUrl(this.name, reference),
      headers: { accept: (options.accept ?? MANIFEST_MEDIA_TYPES).join(', ') },
      what,
      signal,
    }, this.pull);
    if (res.status === 404) throw asManifestUnknown(await responseError(res, this.host, what));
    if (res.status !== 200) throw await responseError(res, this.host, what);
    if (Number(res.headers['content-length'] ?? 0) > MAX_MANIFEST_BYTES) {
      discardBody(res.body);
      throw tooLarge(what, this.host);
    }
    let read: { bytes: Buffer; truncated: boolean };
    try {
      read = await readAtMost(res.body, MAX_MANIFEST_BYTES);
    } catch (err) {
      throw streamError(err, signal, what, this.host);
    }
    if (read.truncated) throw tooLarge(what, this.host);
    const bytes = read.bytes;
    // Checked before the digest: a proxy or captive portal answering 200 with a page must not pass for a manifest.
    const parsed = parseJsonObject(bytes);
    if (parsed === undefined) {
      throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${this.host} answered ${what} with ${mediaTypeOf(res.headers['content-type']) ?? 'content'} that is not a JSON manifest`, {
        hint: 'check that no proxy or captive portal answers in place of the registry',
      });
    }
    const served = res.headers['docker-content-digest'];
    const digest = isDigest(reference) ? reference : served !== undefined && isDigest(served) ? served : digestOf(bytes);
    verifyBytes(bytes, digest, undefined, `${what} from ${this.host}:`);
    return { bytes, digest, mediaType: manifestMediaType(res.headers['content-type'], parsed) };
  }

  async resolve(reference: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor | undefined> {
    const what = this.manifestWhat(reference);
    const res = await this.send({
      method: 'HEAD',
      url: manifestUrl(this.name, reference),
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
      what,
      signal: this.signal(options.signal),
    }, this.pull);
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await responseError(res, this.host, what);
    const served = res.headers['docker-content-digest'];
    const size = Number(res.headers['content-length']);
    const mediaType = mediaTypeOf(res.headers['content-type']);
    if (served !== undefined && isDigest(served) && Number.isSafeInteger(size) && mediaType !== undefined && isManifestType(mediaType)) {
      return { mediaType, digest: isDigest(reference) ? reference : served, size };
    }
    // The registry did not describe it fully: fetch it once and describe it ourselves.
    const fetched = await this.getManifest(reference, options);
    return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const what = this.manifestWhat(reference);
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest && reference.startsWith('sha256:')) {
      throw new OciError('DIGEST_MISMATCH', `${what}: the bytes have digest ${digest}`);
    }
    const res = await this.send({
      method: 'PUT',
      url: manifestUrl(this.name, reference),
      headers: { 'content-type': mediaType },
      body: bytes,
      what,
      signal: this.signal(options.signal),
    }, this.push);
    if (res.status !== 201 && res.status !== 200) throw await responseError(res, this.host, what);
    res.body.resume();
    const served = res.headers['docker-content-digest'];
    if (served !== undefined && served.startsWith('sha256:') && served !== digest) {
      throw new OciError('DIGEST_MISMATCH', `registry ${this.host} stored ${what} as ${served}, but its bytes have digest ${digest}`);
    }
    return digest;
  }

  async deleteManifest(digest: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const what = this.manifestWhat(digest);
    const res = await this.send({
      method: 'DELETE', url: manifestUrl(this.name, digest), what, signal: this.signal(options.signal),
    }, this.push);
    if (res.status === 404) throw asManifestUnknown(await responseError(res, this.host, what));
    if (res.status !== 202 && res.status !== 200 && res.status !== 204) throw await responseError(res, this.host, what);
    res.body.resume();
  }

  /** `GET /v2/` (distribution spec, end-1) with the push scope: the token or Basic handshake is done and cached. */
  async checkWritable(options: { signal?: AbortSignal } = {}): Promise<void> {
    const what = 'the registry API (/v2/)';
    const res = await this.send({ method: 'GET', url: apiRootUrl(), what, signal: this.signal(options.signal) }, this.push);
    if (res.status !== 200) throw await responseError(res, this.host, what);
    res.body.resume();
  }

  async hasBlob(digest: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.blobExists(digest, this.pull, this.signal(options.signal));
  }

  private async blobExists(digest: string, scopes: string[], signal: AbortSignal | undefined, size?: number): Promise<boolean> {
    const what = `blob ${this.name}@${digest}`;
    const res = await this.send({ method: 'HEAD', url: blobUrl(this.name, digest), what, signal }, scopes);
    res.body.resume();
    if (res.status === 200) {
      // A "yes" that describes another thing (a proxy's or captive portal's page) would make a push skip the upload.
      const served = res.headers['docker-content-digest'];
      const length = res.headers['content-length'];
      if ((served !== undefined && served !== digest) || (size !== undefined && length !== undefined && Number(length) !== size)) {
        throw new OciError('REGISTRY_RESPONSE_INVALID',
          `registry ${this.host} answered HEAD of ${what} with ${length ?? '?'} bytes${served ? ` of ${served}` : ''}, not that blob (${size ?? '?'} bytes)`,
          { hint: 'check that no proxy or captive portal answers in place of the registry' });
      }
      return true;
    }
    if (res.status === 404) return false;
    throw await responseError(res, this.host, what);
  }

  /**
   * The one reader of blob content (pull, copy, diff, inspect --files and signature payloads through fetchBlob):
   * a stream verified against the descriptor's size and digest. A body that breaks off (connection reset, short
   * body) is resumed with `Range: bytes=N-`, or read again from the start where the registry ignores Range.
   */
  async openBlob(descriptor: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    const what = `blob ${this.name}@${descriptor.digest}`;
    const signal = this.signal(options.signal);
    const first = await this.blobResponse(descriptor, 0, what, signal);
    const verifier = new VerifyingStream(descriptor.digest, descriptor.size, `${what} from ${this.host}:`);
    const progress = options.onProgress;
    let onBytes: ((received: number) => void) | undefined;
    if (progress !== undefined) {
      const label = labelOf(descriptor);
      let reported = 0;
      onBytes = (received) => {
        if (received - reported < PROGRESS_STEP) return;
        reported = received;
        progress({ direction: 'download', digest: descriptor.digest, label, bytes: received, total: descriptor.size });
      };
      verifier.on('end', () => progress({ direction: 'download', digest: descriptor.digest, label, bytes: verifier.bytes, total: descriptor.size, done: true }));
    }
    const source = Readable.from(this.blobBytes(descriptor, first, what, signal, onBytes), { objectMode: false });
    source.on('error', (err) => verifier.destroy(err));
    verifier.on('close', () => source.destroy());
    source.pipe(verifier);
    return verifier;
  }

  /**
   * GET the blob from `offset` (a Range request when resuming). `skip` is how much of the body was read already:
   * a registry that ignores Range answers 200 with the whole blob again.
   */
  private async blobResponse(descriptor: Descriptor, offset: number, what: string, signal: AbortSignal | undefined): Promise<{ res: HttpResponse; skip: number }> {
    const res = await this.send({
      method: 'GET',
      url: blobUrl(this.name, descriptor.digest),
      headers: offset > 0 ? { range: `bytes=${offset}-` } : undefined,
      followRedirects: true,
      what,
      signal,
    }, this.pull);
    if (offset > 0 && res.status === 206) {
      const range = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec((res.headers['content-range'] ?? '').trim());
      if (range === null || Number(range[1]) !== offset) {
        discardBody(res.body);
        throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${this.host} answered the resumed download of ${what} from byte ${offset} with the range '${res.headers['content-range'] ?? ''}'`);
      }
      return { res, skip: 0 };
    }
    if (res.status !== 200) throw await responseError(res, this.host, what);
    const length = res.headers['content-length'];
    if (length !== undefined && Number(length) !== descriptor.size) {
      discardBody(res.body);
      throw new OciError('SIZE_MISMATCH', `registry ${this.host} serves ${what} with ${length} bytes, its descriptor states ${descriptor.size}`);
    }
    return { res, skip: offset };
  }

  /** The blob's bytes from `first` on, resuming after breaks: at most MAX_STALLED_RESUMES in a row without progress. */
  private async *blobBytes(
    descriptor: Descriptor,
    first: { res: HttpResponse; skip: number },
    what: string,
    signal: AbortSignal | undefined,
    onBytes?: (received: number) => void,
  ): AsyncGenerator<Buffer> {
    let current = first;
    let received = 0;
    let stalled = 0;
    for (let resumes = 0; ; resumes++) {
      const before = received;
      let skip = current.skip;
      let failure: unknown;
      try {
        for await (const chunk of current.res.body as AsyncIterable<Buffer>) {
          let data = chunk;
          if (skip > 0) {
            const n = Math.min(skip, data.length);
            skip -= n;
            data = data.subarray(n);
            if (data.length === 0) continue;
          }
          received += data.length;
          onBytes?.(received);
          yield data;
        }
        // All there (more than the size: the verifier refuses it), or a body that ended short without an error.
        if (received >= descriptor.size) return;
        failure = new Error(`the body ended after ${received} of ${descriptor.size} bytes`);
      } catch (err) {
        if (err instanceof OciError || signal?.aborted) throw streamError(err, signal, what, this.host);
        failure = err;
      } finally {
        discardBody(current.res.body);
      }
      stalled = received > before ? 0 : stalled + 1;
      if (stalled >= MAX_STALLED_RESUMES || resumes >= MAX_BLOB_RESUMES) throw streamError(failure, signal, what, this.host);
      current = await this.blobResponse(descriptor, received, what, signal);
    }
  }

  async fetchBlob(descriptor: Descriptor, options: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Buffer> {
    const max = options.maxBytes ?? DEFAULT_FETCH_MAX;
    if (descriptor.size > max) {
      throw new OciError('BLOB_TOO_LARGE', `blob ${this.name}@${descriptor.digest} is ${descriptor.size} bytes, more than the ${max} allowed here`);
    }
    const stream = await this.openBlob(descriptor, { signal: options.signal });
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  async pushBlob(descriptor: Descriptor, body: BlobBody, options: TransferOptions = {}): Promise<PushBlobResult> {
    const signal = this.signal(options.signal);
    // Push scope from the first request, so one token serves the HEAD and the upload.
    if (await this.blobExists(descriptor.digest, this.push, signal, descriptor.size)) {
      options.onProgress?.({ direction: 'upload', digest: descriptor.digest, label: labelOf(descriptor), bytes: descriptor.size, total: descriptor.size, done: true });
      return 'exists';
    }
    const ctx = this.uploadContext(signal, options);
    const label = labelOf(descriptor);
    let whole: Buffer | undefined;
    if (descriptor.size <= this.chunkSize) {
      whole = Buffer.isBuffer(body) ? body : await readAll(body.open(), descriptor.size);
      verifyBytes(whole, descriptor.digest, descriptor.size, 'blob to push');
    }
    // A session the registry cannot resume may hide a finished upload whose answer was lost: check, else start
    // over once (the body can be read again).
    for (let attempt = 0; ; attempt++) {
      try {
        if (whole !== undefined) {
          await uploadMonolithic(ctx, descriptor.digest, whole, label);
        } else {
          const source = Buffer.isBuffer(body) ? Readable.from([body]) : body.open();
          await uploadChunked(ctx, source, label, { digest: descriptor.digest, size: descriptor.size }).finally(() => source.destroy());
        }
        return 'uploaded';
      } catch (err) {
        if (attempt > 0 || !isOciError(err, Code.UploadResumeFailed)) throw err;
        if (await this.blobExists(descriptor.digest, this.push, signal, descriptor.size)) return 'uploaded';
      }
    }
  }

  async pushBlobStream(mediaType: string, source: Readable, options: TransferOptions = {}): Promise<Descriptor> {
    const ctx = this.uploadContext(this.signal(options.signal), options);
    const { digest, size } = await uploadChunked(ctx, source, mediaType);
    return { mediaType, digest, size };
  }

  private uploadContext(signal: AbortSignal | undefined, options: TransferOptions): UploadContext {
    return {
      send: (req) => this.send(req, this.push),
      host: this.host,
      repository: this.name,
      chunkSize: this.chunkSize,
      retry: this.retry,
      signal,
      onProgress: options.onProgress,
    };
  }

  async mountBlob(descriptor: Descriptor, fromRepository: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const what = `mount of blob ${descriptor.digest} from ${fromRepository} into ${this.name}`;
    const signal = this.signal(options.signal);
    const scopes = [...this.push, repositoryScope(fromRepository)];
    let res: HttpResponse;
    try {
      res = await this.send({
        method: 'POST', url: blobMountUrl(this.name, descriptor.digest, fromRepository), idempotent: true, what, signal,
      }, scopes);
    } catch (err) {
      // No read access to the source repository: a mount is only a shortcut, the caller uploads instead.
      if (isOciError(err, Code.Denied)) return false;
      throw err;
    }
    res.body.resume();
    if (res.status === 201) return true;
    if (res.status === 202) {
      // The registry opened an ordinary upload instead; cancel it (end-14, DELETE of the session) so it does not linger.
      const location = res.headers.location;
      if (location !== undefined) {
        const url = handedOutUrl(location, res, this.host, `the cancel of the ${what}`);
        const cancel = await this.send({ method: 'DELETE', url, what: `cancel of the ${what}`, signal }, scopes);
        cancel.body.resume();
      }
      return false;
    }
    if (res.status === 404) return false;
    throw await responseError(res, this.host, what);
  }

  async listTags(options: { signal?: AbortSignal; pageSize?: number } = {}): Promise<string[]> {
    const signal = this.signal(options.signal);
    const what = `tags of ${this.name}`;
    const tags: string[] = [];
    const first = tagListUrl(this.name, options.pageSize ?? DEFAULT_TAG_PAGE);
    for await (const { res } of this.pages(first, what, signal, MAX_TAG_PAGES)) {
      if (res.status !== 200) throw await responseError(res, this.host, what);
      const body = await this.readJson<{ tags?: unknown } | null>(res, what, signal);
      const pageTags = body?.tags ?? [];
      if (!Array.isArray(pageTags) || pageTags.some((tag) => typeof tag !== 'string')) {
        throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${this.host} answered ${what} with a tags field that is not a list of names`);
      }
      // One at a time: push(...page) overflows the call stack for pages of more than ~120k tags.
      for (const tag of pageTags as string[]) tags.push(tag);
      if (tags.length > MAX_TAGS) throw new OciError('TOO_MANY_TAGS', `registry ${this.host} listed more than ${MAX_TAGS} ${what}; refused`);
    }
    return tags;
  }

  /**
   * The responses of a paged listing: `first`, then each page its `Link: <…>; rel="next"` header names (tag list and
   * referrers, distribution spec). The caller reads each body before asking for the next page; a registry paging
   * back to a page already read or past `maxPages` is refused.
   */
  private async *pages(first: string, what: string, signal: AbortSignal | undefined, maxPages: number): AsyncGenerator<{ res: HttpResponse; page: number }> {
    const pagesRead = new Set<string>();
    let url = first;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.send({ method: 'GET', url, what, signal }, this.pull);
      yield { res, page };
      pagesRead.add(res.url);
      const next = nextLink(res.headers.link);
      if (next === undefined) return;
      url = handedOutUrl(next, res, this.host, `the next page of ${what}`);
      if (pagesRead.has(url)) throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${this.host} paged ${what} back to a page already read (${url})`);
    }
    throw new OciError('TOO_MANY_PAGES', `registry ${this.host} kept paging ${what} past ${maxPages} pages`);
  }

  /**
   * The referrers API, every page of it (a registry may split the listing with `Link` headers, as for tags); where
   * the registry has no API, the fallback index (see `fallbackReferrers` for what is and is not one).
   */
  async referrers(digest: string, options: { signal?: AbortSignal; artifactType?: string } = {}): Promise<Descriptor[]> {
    const signal = this.signal(options.signal);
    const keep = (list: Descriptor[]): Descriptor[] =>
      options.artifactType === undefined ? list : list.filter((d) => d.artifactType === options.artifactType);
    if (this.referrersApi !== false) {
      const what = `referrers of ${this.name}@${digest}`;
      const listed: Descriptor[] = [];
      for await (const { res, page } of this.pages(referrersUrl(this.name, digest, options.artifactType), what, signal, MAX_REFERRER_PAGES)) {
        if (res.status === 200 && mediaTypeOf(res.headers['content-type']) === MediaType.OciIndex) {
          this.referrersApi = true;
          for (const entry of descriptorsIn((await this.readJson<Partial<ImageIndex> | null>(res, what, signal))?.manifests)) listed.push(entry);
          if (listed.length > MAX_REFERRERS) throw new OciError('TOO_MANY_REFERRERS', `registry ${this.host} listed more than ${MAX_REFERRERS} ${what}; refused`);
          continue;
        }
        // Only the first answer may say "no API here"; a later page that is not a listing is an error of the listing.
        if (page > 0 && res.status === 200) {
          discardBody(res.body);
          throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${this.host} answered page ${page + 1} of ${what} with ${mediaTypeOf(res.headers['content-type']) ?? 'content'} that is not an image index`);
        }
        if (page > 0 || (res.status !== 200 && res.status !== 404 && res.status !== 400 && res.status !== 405)) {
          throw await responseError(res, this.host, what);
        }
        res.body.resume();
        this.referrersApi = false;
        break;
      }
      if (this.referrersApi) return keep(listed);
    }
    return keep(await fallbackReferrers(this, digest, signal));
  }

  private async readJson<T>(res: HttpResponse, what: string, signal: AbortSignal | undefined): Promise<T> {
    let read: { bytes: Buffer; truncated: boolean };
    try {
      read = await readAtMost(res.body, MAX_LIST_BODY);
    } catch (err) {
      throw streamError(err, signal, what, this.host);
    }
    try {
      if (read.truncated) throw new Error('too large');
      return JSON.parse(read.bytes.toString('utf8')) as T;
    } catch {
      throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${this.host} answered ${what} with something that is not JSON`);
    }
  }

  /** Connections are pooled per endpoint for the whole process (closeAllConnections() ends them). */
  async close(): Promise<void> {}
}

function asManifestUnknown(err: OciError): OciError {
  if (err.code === Code.ManifestUnknown) return err;
  return new OciError('MANIFEST_UNKNOWN', err.message, { kind: err.kind, hint: err.hint, cause: err, details: err.details });
}

function tooLarge(what: string, host: string): OciError {
  return new OciError('MANIFEST_TOO_LARGE', `registry ${host} served ${what} larger than ${MAX_MANIFEST_BYTES} bytes; refused`);
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim();
  return type === '' ? undefined : type;
}

function isManifestType(type: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(type) || type.startsWith('application/vnd.');
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Content-Type when it names a manifest type, else the `mediaType` field of the JSON. */
function manifestMediaType(contentType: string | undefined, parsed: Record<string, unknown>): string {
  const type = mediaTypeOf(contentType);
  if (type !== undefined && isManifestType(type)) return type;
  if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  return Array.isArray(parsed.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
}

function nextLink(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]*)>\s*;.*\brel="?next"?/i.exec(part);
    if (match) return match[1];
  }
  return undefined;
}


async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const { bytes, truncated } = await readAtMost(stream, size);
  if (truncated) throw new OciError('SIZE_MISMATCH', `the content to push is larger than the ${size} bytes its descriptor states`);
  return bytes;
}
