import type { Readable } from 'node:stream';

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  urls?: string[];
  platform?: Record<string, unknown>;
}

/** OCI image manifest (also the shape of Docker v2 schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** OCI image index (also the shape of a Docker manifest list). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest as fetched: the exact bytes (never re-encoded), their digest and media type. */
export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** Progress of one blob transfer, reported as it happens; the CLI decides how (or whether) to show it. */
export interface TransferProgress {
  /** `pack`: content written into the artifact's tar (push, build), before or while it is uploaded. */
  direction: 'upload' | 'download' | 'pack';
  /** Digest when known (unknown while a streamed upload is still being produced). */
  digest?: string;
  label: string;
  bytes: number;
  total?: number;
  /** Files done and in all, where the transfer counts files (packing). */
  files?: number;
  totalFiles?: number;
  done?: boolean;
}

export type ProgressListener = (event: TransferProgress) => void;

export interface TransferOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface StreamPushOptions extends TransferOptions {
  /**
   * Bytes that come before the stream, handed over: they are stored first, and the buffer may be written to
   * afterwards (the registry client sends it as whole chunks and then fills it again, instead of allocating).
   */
  head?: Buffer;
}

/**
 * A blob body that can be read again from the start, so a failed upload can be retried.
 * A Buffer is its own replay; otherwise `open()` is called once per attempt.
 */
export type BlobBody = Buffer | { size: number; open(): Readable };

export type PushBlobResult = 'exists' | 'mounted' | 'uploaded';

/**
 * One repository of OCI content. The registry client (HTTP) and the OCI image layout (disk) both implement it;
 * commands use it without knowing which they have.
 */
export interface Repository {
  /** Human-readable name, e.g. `ghcr.io/org/app` or `./store`. */
  readonly displayName: string;

  /**
   * Fetch a manifest by tag or digest. The bytes are checked against the digest (when fetched by digest, or
   * when the server names one), capped at MAX_MANIFEST_BYTES. Throws OciError code MANIFEST_UNKNOWN when absent.
   */
  getManifest(reference: string, options?: { signal?: AbortSignal; accept?: readonly string[] }): Promise<FetchedManifest>;

  /** Resolve a tag or digest to a descriptor without the body; undefined when absent. */
  resolve(reference: string, options?: { signal?: AbortSignal }): Promise<Descriptor | undefined>;

  /** Store manifest bytes unchanged under a tag or by digest; returns the digest of the bytes. */
  putManifest(reference: string, bytes: Buffer, mediaType: string, options?: { signal?: AbortSignal }): Promise<string>;

  /** Remove a manifest by digest (used by tests and cleanup of referrer fallback indexes). */
  deleteManifest?(digest: string, options?: { signal?: AbortSignal }): Promise<void>;

  hasBlob(digest: string, options?: { signal?: AbortSignal }): Promise<boolean>;

  /**
   * Reach the repository for writing before any content is ready: one request that also completes the credential
   * handshake, so a wrong host or password fails at once instead of after a long pack. Nothing to check on disk.
   */
  checkWritable?(options?: { signal?: AbortSignal }): Promise<void>;

  /**
   * Stream a blob. The stream errors (OciError code DIGEST_MISMATCH / SIZE_MISMATCH) instead of ending cleanly when
   * the bytes do not match the descriptor, so nothing may be committed before 'end'.
   */
  openBlob(descriptor: Descriptor, options?: TransferOptions): Promise<Readable>;

  /** Read a small blob fully (config, signature payload), verified; refuses blobs over `maxBytes` (default 4 MiB). */
  fetchBlob(descriptor: Descriptor, options?: { signal?: AbortSignal; maxBytes?: number }): Promise<Buffer>;

  /** Upload a blob of known digest unless present; retries replay the body. */
  pushBlob(descriptor: Descriptor, body: BlobBody, options?: TransferOptions): Promise<PushBlobResult>;

  /**
   * Upload a blob whose digest is not known in advance, hashing while sending (single pass, bounded memory).
   * Returns the digest and size of what was stored.
   */
  pushBlobStream(mediaType: string, source: Readable, options?: StreamPushOptions): Promise<Descriptor>;

  /** Cross-repository mount on the same registry; false when the backend cannot or refuses (caller copies). */
  mountBlob(descriptor: Descriptor, fromRepository: string, options?: { signal?: AbortSignal }): Promise<boolean>;

  /** All tags, following pagination. Empty for a repository that exists but has none. */
  listTags(options?: { signal?: AbortSignal; pageSize?: number }): Promise<string[]>;

  /**
   * Manifests whose `subject` is `digest`: the referrers API where supported, else the `sha256-<hex>` fallback
   * tag index. Filtered by artifactType when given. `onFallbackIndex` is told the fallback index when the listing
   * came from it (undefined when there is none), so a caller adding to it need not read it again.
   */
  referrers(digest: string, options?: { signal?: AbortSignal; artifactType?: string; onFallbackIndex?: (index: FetchedManifest | undefined) => void }): Promise<Descriptor[]>;

  /**
   * Make what was written visible, where writes are held until the command succeeded: a bundle file is written
   * whole here, and closing without it leaves the bundle as it was. Registries and layout directories write as
   * they go and have none; a command that writes calls it (when present) once everything is in.
   */
  commit?(): Promise<void>;

  /** Close connections, flush anything pending. */
  close(): Promise<void>;
}
