import { OciError } from '../../errors.js';
import { HttpClient, type HttpMethod } from '../http.js';
import { readAtMost } from '../response-body.js';
import type { ProviderContext } from './types.js';

/**
 * One JSON exchange with a cloud endpoint (token services, metadata servers), through the registry HTTP client so
 * TLS settings, retries and redaction apply. Errors name the endpoint and the service's own error code, never the
 * body (it may echo credentials).
 */
const MAX_BODY = 1024 * 1024;

export interface JsonExchange {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** What is asked, for messages: `an ECR authorization token`. */
  what: string;
  /** Safe to repeat on failure (GET, and POSTs that only mint tokens). */
  idempotent?: boolean;
}

export async function exchangeJson(ctx: ProviderContext, req: JsonExchange): Promise<Record<string, unknown>> {
  const url = new URL(req.url);
  const http = new HttpClient(url.host, {
    caFile: ctx.caFile, certFile: ctx.certFile, keyFile: ctx.keyFile, insecure: ctx.insecure, userAgent: ctx.userAgent, schemes: ctx.schemes,
  });
  const res = await http.send({
    method: req.method, url: url.href, headers: req.headers, body: req.body, what: req.what, signal: ctx.signal,
    idempotent: req.idempotent ?? true,
  });
  const { bytes, truncated } = await readAtMost(res.body, MAX_BODY);
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = truncated ? undefined : JSON.parse(bytes.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  if (res.status < 200 || res.status > 299) {
    const code = serviceErrorCode(parsed);
    throw new OciError('PROVIDER_AUTH_FAILED', `${url.host} refused ${req.what} (${res.status}${code ? ` ${code}` : ''})`, {
      kind: 'auth',
      hint: 'check the cloud identity this machine or job runs with, and its permissions',
    });
  }
  if (parsed === undefined) {
    throw new OciError('PROVIDER_AUTH_FAILED', `${url.host} answered ${req.what} with something that is not a JSON object`, { kind: 'auth' });
  }
  return parsed;
}

/** The error code services put in their JSON error bodies (AWS `__type`, OAuth2 `error`), if it looks like one. */
function serviceErrorCode(body: Record<string, unknown> | undefined): string | undefined {
  const raw = body?.__type ?? body?.error ?? body?.code;
  const code = typeof raw === 'string' ? raw.split('#').pop()! : undefined;
  return code !== undefined && /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : undefined;
}

export function stringField(body: Record<string, unknown>, name: string, from: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') {
    throw new OciError('PROVIDER_AUTH_FAILED', `${from} sent no ${name}`, { kind: 'auth' });
  }
  return value;
}

export function formBody(fields: Record<string, string>): Buffer {
  return Buffer.from(new URLSearchParams(fields).toString());
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
