import { lstat, mkdir, readFile, readlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { OciError } from '../errors.js';
import { DOCKER_HUB } from '../ref/reference.js';

/**
 * The Docker config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) and Podman's auth file, as
 * those tools read and write them: `auths` keyed by server (with or without scheme and path), `credHelpers` per
 * registry, `credsStore` for all others. Writes keep every other field and go through a temp file and rename,
 * with mode 0600; a symlinked config.json stays a link and its target is written, as the Docker CLI does.
 */
export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

/** The key and server URL Docker uses for Docker Hub. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);

/** Path of the Docker config file: `dockerConfigDir`, else $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigPath(env: NodeJS.ProcessEnv, dockerConfigDir?: string): string {
  return join(dockerConfigDir ?? (env.DOCKER_CONFIG || join(homedir(), '.docker')), 'config.json');
}

/** Podman's auth file: $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json (when that is set). */
export function podmanAuthPath(env: NodeJS.ProcessEnv): string | undefined {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined;
}

/** The server URL a credential helper is asked about, as Docker passes it. */
export function serverUrlFor(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry) ? DOCKER_HUB_SERVER : registry;
}

/** The parsed file, or undefined when it does not exist. A broken file is an error (it never shows the content). */
export async function readConfigFile(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new OciError('DOCKER_CONFIG_UNREADABLE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { kind: 'usage' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OciError('DOCKER_CONFIG_INVALID', `${path} is not valid JSON`, { kind: 'usage', hint: 'fix or remove the file, or pass --creds' });
  }
  return parsed as DockerConfig;
}

/** `https://host:port/v1/` -> `host:port`, as Docker matches config keys. */
function hostOfKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

/** Hosts compare without case, as DNS does (a key written `Registry.Example:5000` still matches). */
function sameRegistry(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || (DOCKER_HUB_ALIASES.has(x) && DOCKER_HUB_ALIASES.has(y));
}

/**
 * The `auths` key for `registry`. Docker compares hosts only; Podman may also key an entry by a namespace
 * (`quay.io/org`), so with `repository` the longest matching `host/path` prefix wins over the bare host.
 */
export function findAuthKey(config: DockerConfig, registry: string, repository?: string): string | undefined {
  let best: { key: string; length: number } | undefined;
  for (const key of Object.keys(config.auths ?? {})) {
    const bare = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
    const slash = bare.indexOf('/');
    const host = hostOfKey(key);
    if (!sameRegistry(host, registry)) continue;
    let length = 0;
    if (slash >= 0 && repository !== undefined && !/^v[12]$/.test(bare.slice(slash + 1))) {
      const path = bare.slice(slash + 1);
      if (repository !== path && !repository.startsWith(`${path}/`)) continue;
      length = path.length;
    }
    if (best === undefined || length > best.length) best = { key, length };
  }
  return best?.key;
}

/** The credential helper configured for `registry`: its `credHelpers` entry, else `credsStore`. */
export function helperFor(config: DockerConfig, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (sameRegistry(hostOfKey(key), registry) && helper) return helper;
  }
  return config.credsStore || undefined;
}

/** username/password (or identity token) of an entry; throws when `auth` is not base64 of `user:password`. */
export function decodeAuthEntry(entry: AuthEntry, what: string): { username?: string; password?: string; identityToken?: string; token?: string } {
  const out: { username?: string; password?: string; identityToken?: string; token?: string } = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OciError('DOCKER_CONFIG_INVALID', `the auth entry for ${what} is not base64 of user:password`, { kind: 'usage' });
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else if (entry.username !== undefined) {
    out.username = entry.username;
    out.password = entry.password ?? '';
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  if (entry.registrytoken) out.token = entry.registrytoken;
  return out;
}

/** Longest chain of links followed to the file a write lands in (Linux's own limit for path resolution). */
const MAX_LINKS = 40;

/**
 * The file a write to `path` must replace: `path` itself, or the end of its chain of symbolic links (made absolute,
 * and also when the last target does not exist yet). Renaming onto the link itself would turn it into a regular
 * file and leave the real config (in a dotfiles repository, say) unchanged.
 */
async function writeTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hop = 0; hop < MAX_LINKS; hop++) {
    let isLink: boolean;
    try {
      isLink = (await lstat(current)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return current;
      throw err;
    }
    if (!isLink) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
}

/**
 * Write `config` to `path` atomically (temp file next to the real file, then rename onto it), readable by the owner
 * only. Through a symbolic link, the link's target is replaced and the link kept.
 */
export async function writeConfigFile(path: string, config: DockerConfig): Promise<void> {
  try {
    const target = await writeTarget(path);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    // exactMode: the umask may have narrowed the mode, never widened it; be explicit anyway
    await writeFileAtomic(target, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, exactMode: true });
  } catch (err) {
    throw new OciError('DOCKER_CONFIG_UNWRITABLE', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { kind: 'usage', cause: err });
  }
}
