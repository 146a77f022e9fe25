/**
 * One error type for the whole tool. `code` is a stable string a test or a script can match, from the closed list
 * below, so a misspelt code is a type error; `kind` decides the exit status (see EXIT_CODES), so no layer below the
 * CLI ever picks a number. A new failure adds its code to the union of its area here.
 */
export type ErrorKind =
  | 'usage' // bad flags, references, paths: the user must change the command
  | 'registry' // the registry or network failed, or served something unusable
  | 'auth' // credentials missing, wrong, or refused
  | 'verification' // no signature satisfied the policy
  | 'interrupted' // SIGINT / SIGTERM
  | 'internal'; // a bug: a state the code should never reach (code INTERNAL), or an error that is no OciError

export const EXIT_CODES: Readonly<Record<ErrorKind | 'ok' | 'changes', number>> = {
  ok: 0,
  changes: 1,
  verification: 1,
  usage: 2,
  registry: 3,
  auth: 4,
  /** EX_SOFTWARE: an unexpected error, a bug rather than anything the user did. */
  internal: 70,
  interrupted: 130,
};

/** Flags and values given on the command line or stdin. */
export type InputErrorCode =
  | 'FLAG_CONFLICT' | 'FLAG_INVALID' | 'DATE_INVALID' | 'DURATION_INVALID' | 'REGEX_INVALID' | 'SEMVER_RANGE_INVALID'
  | 'ANNOTATION_INVALID' | 'LAYER_CHOICE_CONFLICT' | 'OUTPUT_FORMAT_INVALID' | 'SHELL_UNSUPPORTED' | 'DIFF_TARGET'
  | 'STDIN_EMPTY' | 'SECRET_REQUIRED' | 'FLAG_MISSING' | 'NO_TAG_MATCHES';

/** References: `oci://host/repo:tag@digest`, `oci-layout://path:tag`. */
export type ReferenceErrorCode = 'REFERENCE_INVALID' | 'REGISTRY_INVALID' | 'TAG_INVALID' | 'TAG_MISSING' | 'DIGEST_INVALID';

/** Local files and directories read or written (sources, outputs, keys on disk). */
export type FileErrorCode =
  | 'PATH_NOT_FOUND' | 'PATH_NOT_REGULAR' | 'PATH_NAME_INVALID' | 'PATH_TOO_LONG' | 'PATH_UNREADABLE' | 'SYMLINK_UNRESOLVABLE'
  | 'FILE_CHANGED' | 'FILE_EXISTS' | 'FILE_UNREADABLE' | 'FILE_UNWRITABLE' | 'WRITE_FAILED' | 'SOURCEIGNORE_UNREADABLE'
  | 'OUTPUT_CONFLICT' | 'OUTPUT_DANGLING_LINK' | 'OUTPUT_IS_DIRECTORY' | 'OUTPUT_LINK_LOOP' | 'OUTPUT_NOT_DIRECTORY'
  | 'PATH_MISSING' | 'SOURCE_CONFLICT' | 'SOURCE_DEST_INVALID' | 'CONFIG_UNREADABLE' | 'CONFIG_INVALID' | 'PUSH_ALL_FAILED';

/** An artifact's own content: its archive, layers and annotations. */
export type ArtifactErrorCode =
  | 'ARCHIVE_INVALID' | 'ARCHIVE_TOO_LARGE' | 'ARCHIVE_TRUNCATED' | 'NOT_GZIP' | 'UNSAFE_ARCHIVE' | 'NOT_AN_ARTIFACT'
  | 'NO_LAYERS' | 'LAYER_NOT_FOUND' | 'PROVENANCE_MISSING';

/** Content from any repository checked against its descriptor, and the caps on how much is read. */
export type ContentErrorCode =
  | 'DIGEST_MISMATCH' | 'DIGEST_CHANGED' | 'SIZE_MISMATCH' | 'BLOB_TOO_LARGE' | 'MANIFEST_TOO_LARGE'
  | 'TOO_MANY_MANIFESTS' | 'TOO_MANY_PAGES' | 'TOO_MANY_REFERRERS' | 'TOO_MANY_SIGNATURES' | 'TOO_MANY_TAGS';

/** OCI image layouts on disk. */
export type LayoutErrorCode = 'LAYOUT_INVALID' | 'LAYOUT_LOCKED' | 'LAYOUT_LOCK_FAILED' | 'LAYOUT_NOT_FOUND' | 'LAYOUT_READ_ONLY';

/**
 * The codes a registry sends in its error body, carried through as sent: the distribution spec's list
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes) and the few more the CNCF
 * Distribution registry uses. A code outside this list is named by the HTTP status instead (see `registryErrorCode`);
 * the message and `details` still carry it as the registry sent it.
 */
export const DISTRIBUTION_ERROR_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID',
  'RANGE_INVALID', 'TAG_INVALID', 'PAGINATION_NUMBER_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED',
  'TOOMANYREQUESTS', 'UNAVAILABLE', 'UNKNOWN',
] as const;
export type DistributionErrorCode = (typeof DISTRIBUTION_ERROR_CODES)[number];

/** Talking to a registry: the network, TLS, redirects, uploads, and answers without a listed code. */
export type RegistryErrorCode =
  | DistributionErrorCode
  | 'NOT_FOUND' | `HTTP_${number}`
  | 'REGISTRY_RESPONSE_INVALID' | 'REGISTRY_UNREACHABLE' | 'REGISTRY_URL_REFUSED' | 'NETWORK_ERROR' | 'CONNECT_TIMEOUT'
  | 'TIMEOUT' | 'TLS_ERROR' | 'TLS_FILE_UNREADABLE' | 'REDIRECT_REFUSED' | 'REDIRECT_UNAUTHORIZED' | 'TOO_MANY_REDIRECTS'
  | 'UPLOAD_LOCATION_INVALID' | 'UPLOAD_RESUME_FAILED' | 'SOURCE_READ_FAILED';

/** Credentials (flags, docker config, helpers, cloud providers) and the token handshake. */
export type AuthErrorCode =
  | 'CREDS_AMBIGUOUS' | 'LOGIN_FAILED' | 'AUTH_CHALLENGE_INVALID' | 'AUTH_SCHEME_UNSUPPORTED' | 'AUTH_TOKEN_INVALID'
  | 'CREDENTIAL_HELPER_FAILED' | 'CREDENTIAL_HELPER_INVALID' | 'CREDENTIAL_HELPER_MISSING'
  | 'DOCKER_CONFIG_INVALID' | 'DOCKER_CONFIG_UNREADABLE' | 'DOCKER_CONFIG_UNWRITABLE'
  | 'PROVIDER_AUTH_FAILED' | 'PROVIDER_CONFIG_INVALID' | 'PROVIDER_CREDENTIALS_MISSING' | 'PROVIDER_REGISTRY_MISMATCH';

/** Keys, signatures, trust material and verification policy. */
export type SigningErrorCode =
  | 'KEY_INVALID' | 'KEY_IS_PRIVATE' | 'KEY_IS_PUBLIC' | 'KEY_PASSWORD' | 'KEY_UNREADABLE' | 'KEY_UNSUPPORTED'
  | 'CERT_INVALID' | 'CERT_KEY_MISMATCH' | 'SIGNATURE_INVALID' | 'VERIFICATION_FAILED'
  | 'POLICY_CONFLICT' | 'POLICY_INCOMPLETE' | 'POLICY_INVALID'
  | 'TRUSTED_ROOT_INVALID' | 'TRUSTED_ROOT_REQUIRED' | 'TRUSTED_ROOT_UNAVAILABLE' | 'TRUST_POLICY_INVALID' | 'TRUST_STORE_EMPTY'
  | 'IDENTITY_TOKEN_INVALID' | 'IDENTITY_TOKEN_ISSUER' | 'IDENTITY_TOKEN_MISSING' | 'IDENTITY_TOKEN_UNAVAILABLE'
  | 'FULCIO_REFUSED' | 'REKOR_REFUSED' | 'KEYLESS_FAILED' | 'KEYLESS_UNTRUSTED' | 'KEYLESS_IDENTITY_UNKNOWN'
  | 'PREDICATE_INVALID' | 'PROVENANCE_ENV';

export type ErrorCode =
  | InputErrorCode | ReferenceErrorCode | FileErrorCode | ArtifactErrorCode | ContentErrorCode | LayoutErrorCode
  | RegistryErrorCode | AuthErrorCode | SigningErrorCode
  | 'INTERRUPTED'
  | 'INTERNAL'; // a state the code should never reach

/** The codes callers branch on (`isOciError(err, Code.ManifestUnknown)`), named once. */
export const Code = {
  ManifestUnknown: 'MANIFEST_UNKNOWN',
  NameUnknown: 'NAME_UNKNOWN',
  /** A 404 whose body named no code. */
  NotFound: 'NOT_FOUND',
  Unauthorized: 'UNAUTHORIZED',
  Denied: 'DENIED',
  Timeout: 'TIMEOUT',
  /** The upload session cannot be continued; a caller that can replay the content from the start may upload again. */
  UploadResumeFailed: 'UPLOAD_RESUME_FAILED',
} as const satisfies Record<string, ErrorCode>;

const DISTRIBUTION_CODES: ReadonlySet<string> = new Set(DISTRIBUTION_ERROR_CODES);

/** A registry's error-body code when the distribution spec lists it, else undefined. */
export function registryErrorCode(wire: string | undefined): DistributionErrorCode | undefined {
  return wire !== undefined && DISTRIBUTION_CODES.has(wire) ? (wire as DistributionErrorCode) : undefined;
}

export interface OciErrorOptions {
  kind?: ErrorKind;
  cause?: unknown;
  /** One short sentence telling the user what to do next. */
  hint?: string;
  /** Structured facts behind the message, printed by --debug (e.g. every entry of a registry's error answer). */
  details?: Readonly<Record<string, unknown>>;
}

export class OciError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: OciErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OciError';
    this.code = code;
    this.kind = options.kind ?? (code === 'INTERNAL' ? 'internal' : 'registry');
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function usageError(code: ErrorCode, message: string, hint?: string): OciError {
  return new OciError(code, message, { kind: 'usage', hint });
}

/** True for an OciError; with codes given, only for one carrying one of them. */
export function isOciError(err: unknown, ...codes: readonly ErrorCode[]): err is OciError {
  return err instanceof OciError && (codes.length === 0 || codes.includes(err.code));
}
