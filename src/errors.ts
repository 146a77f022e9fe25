/**
 * One error type for the whole tool. `code` is a stable string a test or a script can match;
 * `kind` decides the exit status (see EXIT_CODES), so no layer below the CLI ever picks a number.
 */
export type ErrorKind =
  | 'usage' // bad flags, references, paths: the user must change the command
  | 'registry' // the registry or network failed, or served something unusable
  | 'auth' // credentials missing, wrong, or refused
  | 'verification' // no signature satisfied the policy
  | 'interrupted'; // SIGINT / SIGTERM

export const EXIT_CODES: Readonly<Record<ErrorKind | 'ok' | 'changes' | 'internal', number>> = {
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

export interface OciErrorOptions {
  kind?: ErrorKind;
  cause?: unknown;
  /** One short sentence telling the user what to do next. */
  hint?: string;
  /** Structured facts behind the message, printed by --debug (e.g. every entry of a registry's error answer). */
  details?: Readonly<Record<string, unknown>>;
}

export class OciError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options: OciErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OciError';
    this.code = code;
    this.kind = options.kind ?? 'registry';
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function usageError(code: string, message: string, hint?: string): OciError {
  return new OciError(code, message, { kind: 'usage', hint });
}

export function isOciError(err: unknown): err is OciError {
  return err instanceof OciError;
}
