import { createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signV4 } from '../../src/registry/providers/sigv4.js';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * --provider aws|gcp|azure against local stand-ins for the cloud endpoints, each checking the request as the real
 * service documents it (SigV4 recomputed from what arrived on the wire; the service-account JWT verified with its
 * public key; the AAD and ACR exchange forms), in front of the real registry. The registries answer under their
 * cloud's real host names (an ECR, an Artifact Registry and an ACR host), reached through a CONNECT proxy that routes
 * those names to the loopback (with --insecure-registry, as the stand-ins speak plain HTTP): a provider's identity
 * goes only to its own cloud's hosts, and the tests below check that no other host ever sees it.
 */
const CANARY = 'canary-cloud-secret-0b5e9c27d4';
const AWS_SECRET = `aws-secret-${CANARY}`;
const AKID = 'AKIDTESTEXAMPLE';

interface Endpoint {
  url: string;
  host: string;
  seen: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  stop(): Promise<void>;
}

/** A loopback HTTP endpoint; `answer` returns [status, JSON body] for each request. */
async function endpoint(answer: (req: IncomingMessage, body: string) => [number, unknown]): Promise<Endpoint> {
  const seen: Endpoint['seen'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const [status, json] = answer(req, body);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${host}`,
    host,
    seen,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const ECR_NAME = '123456789012.dkr.ecr.eu-central-1.amazonaws.com';
const GAR_NAME = 'europe-docker.pkg.dev';
const ACR_NAME = 'ociartifact.azurecr.io';
/** Cloud registry host name -> the loopback stand-in answering for it. */
const routes: Record<string, string> = {};
let cloudNames: ConnectProxy;

let work: { path: string; remove(): Promise<void> };
let content: string;
const results: CliResult[] = [];
const META = ['--source', 'https://example.com/repo', '--revision', 'main@sha1:0123456789abcdef'];

beforeAll(async () => {
  cloudNames = await startConnectProxy({ routes });
  work = await tempDir('providers-test-');
  content = join(work.path, 'content');
  mkdirSync(content);
  writeFileSync(join(content, 'app.yaml'), 'kind: ConfigMap\n');
});

afterAll(async () => {
  await Promise.all([work?.remove(), cloudNames?.stop()]);
  for (const r of results) expect(r.stdout + r.stderr).not.toContain(CANARY);
});

/** The CLI with the cloud host names routed to their stand-ins; other (loopback) hosts are reached directly. */
async function cli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const empty = join(work.path, 'no-docker-config');
  const result = await runCli([...args, '--insecure-registry'], {
    env: {
      HOME: work.path, DOCKER_CONFIG: empty, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined, AWS_REGION: undefined, AWS_ENDPOINT_URL: undefined, GOOGLE_APPLICATION_CREDENTIALS: undefined,
      AZURE_CLIENT_ID: undefined, AZURE_TENANT_ID: undefined, AZURE_CLIENT_SECRET: undefined, AZURE_FEDERATED_TOKEN_FILE: undefined,
      HTTPS_PROXY: cloudNames.url, HTTP_PROXY: cloudNames.url, NO_PROXY: '127.0.0.1,localhost',
      ...env,
    },
  });
  results.push(result);
  return result;
}

describe('--provider aws (ECR GetAuthorizationToken with SigV4)', () => {
  const ECR_PASSWORD = `ecr-${CANARY}`;
  let registry: TestRegistry;
  let ecr: Endpoint;
  const failures: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { username: 'AWS', password: ECR_PASSWORD } });
    routes[ECR_NAME] = registry.host;
    // The ECR endpoint recomputes the signature from the request as received, with the secret it knows for the key.
    ecr = await endpoint((req, body) => {
      const auth = req.headers.authorization ?? '';
      const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ecr\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
      const problem =
        req.method !== 'POST' ? 'method' :
        req.headers['x-amz-target'] !== 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken' ? 'target' :
        req.headers['content-type'] !== 'application/x-amz-json-1.1' ? 'content-type' :
        m === null ? 'authorization header' :
        m[1] !== AKID ? 'key id' :
        m[3] !== 'eu-central-1' ? 'region' : undefined;
      if (problem !== undefined || m === null) {
        failures.push(problem ?? 'authorization');
        return [400, { __type: 'InvalidSignatureException', message: problem }];
      }
      const amzDate = String(req.headers['x-amz-date']);
      const when = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
      const signed = m[4]!.split(';');
      if (!signed.includes('host') || !signed.includes('x-amz-date') || !signed.includes('x-amz-target') || Math.abs(Date.now() - when) > 5 * 60_000) {
        failures.push('signed headers or date');
        return [403, { __type: 'InvalidSignatureException' }];
      }
      const headers = Object.fromEntries(signed.filter((h) => h !== 'x-amz-date').map((h) => [h, String(req.headers[h])]));
      const expected = signV4({
        method: 'POST', url: new URL(`http://${req.headers.host}${req.url}`), headers, body, region: m[3]!, service: 'ecr', date: new Date(when),
      }, { accessKeyId: AKID, secretAccessKey: AWS_SECRET, sessionToken: req.headers['x-amz-security-token'] as string | undefined });
      if (expected.signature !== m[5]) {
        failures.push('signature');
        return [403, { __type: 'InvalidSignatureException', message: 'The request signature we calculated does not match' }];
      }
      return [200, { authorizationData: [{ authorizationToken: Buffer.from(`AWS:${ECR_PASSWORD}`).toString('base64'), expiresAt: Date.now() / 1000 + 43_200, proxyEndpoint: `https://${ECR_NAME}` }] }];
    });
  });

  afterAll(async () => {
    await Promise.all([registry?.stop(), ecr?.stop()]);
  });

  const awsEnv = (extra: Record<string, string> = {}) => ({ AWS_ENDPOINT_URL_ECR: ecr.url, AWS_REGION: 'eu-central-1', ...extra });

  it('pushes, lists and pulls with keys from the environment', async () => {
    const env = awsEnv({ AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: AWS_SECRET });
    const push = await cli(['push', `oci://${ECR_NAME}/ecr/app:v1`, '-f', content, ...META, '--provider', 'aws'], env);
    expect(push.code, push.stderr).toBe(0);
    const list = await cli(['list', `oci://${ECR_NAME}/ecr/app`, '--provider', 'aws'], env);
    expect(list.code, list.stderr).toBe(0);
    const pull = await cli(['pull', `oci://${ECR_NAME}/ecr/app:v1`, '-o', join(work.path, 'ecr-out'), '--registry-provider', 'aws'], env);
    expect(pull.code, pull.stderr).toBe(0);
    expect(failures).toEqual([]);
    expect(cloudNames.tunnels).toContain(`${ECR_NAME}:80`);
    // One token per command, each a verified SigV4 request.
    expect(ecr.seen).toHaveLength(3);
  });

  it('signs with a session token from the shared credentials file profile', async () => {
    const file = join(work.path, 'aws-credentials');
    writeFileSync(file, `[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n[ci]\naws_access_key_id = ${AKID}\naws_secret_access_key = ${AWS_SECRET}\naws_session_token = session-token-1\n`);
    const list = await cli(['list', `oci://${ECR_NAME}/ecr/app`, '--provider', 'aws'], awsEnv({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'ci' }));
    expect(list.code, list.stderr).toBe(0);
    expect(ecr.seen.at(-1)!.headers['x-amz-security-token']).toBe('session-token-1');
    expect(ecr.seen.at(-1)!.headers.authorization).toContain('x-amz-security-token');
  });

  it('fails with the service error code when the signature is wrong, without printing the secret', async () => {
    const list = await cli(['list', `oci://${ECR_NAME}/ecr/app`, '--provider', 'aws'], awsEnv({ AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: `x${AWS_SECRET}` }));
    expect(list.code).toBe(4);
    expect(list.stderr).toMatch(/refused an ECR authorization token \(403 InvalidSignatureException\)/);
    expect(failures.splice(0)).toEqual(['signature']);
  });

  it('refuses a registry that is not ECR before any token request, naming the hosts it serves', async () => {
    const before = ecr.seen.length;
    const other = await endpoint(() => [401, {}]);
    try {
      const list = await cli(['list', `oci://${other.host}/ecr/app`, '--provider', 'aws'], awsEnv({ AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: AWS_SECRET }));
      expect(list.code).toBe(2);
      expect(list.stderr).toMatch(/--provider aws serves only Amazon ECR registries \(<account>\.dkr\.ecr\.<region>\.amazonaws\.com.*not 127\.0\.0\.1:/);
      expect(ecr.seen.length).toBe(before);
      expect(other.seen).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe('--provider gcp (oauth2accesstoken)', () => {
  const ACCESS = `ya29.${CANARY}`;
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { username: 'oauth2accesstoken', password: ACCESS } });
    routes[GAR_NAME] = registry.host;
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('takes the token from the metadata server (GCE_METADATA_HOST), with the Metadata-Flavor header', async () => {
    const metadata = await endpoint((req) =>
      req.url === '/computeMetadata/v1/instance/service-accounts/default/token' && req.headers['metadata-flavor'] === 'Google'
        ? [200, { access_token: ACCESS, expires_in: 3599, token_type: 'Bearer' }]
        : [403, { error: 'forbidden' }]);
    try {
      const push = await cli(['push', `oci://${GAR_NAME}/gar/app:v1`, '-f', content, ...META, '--provider', 'gcp'], { GCE_METADATA_HOST: metadata.host });
      expect(push.code, push.stderr).toBe(0);
      expect(metadata.seen).toHaveLength(1);
    } finally {
      await metadata.stop();
    }
  });

  it('exchanges a service-account JWT from GOOGLE_APPLICATION_CREDENTIALS at its token_uri', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let checked = '';
    const tokenEndpoint = await endpoint((req, body) => {
      const form = new URLSearchParams(body);
      const [h, c, s] = (form.get('assertion') ?? '').split('.');
      const claims = JSON.parse(Buffer.from(c ?? '', 'base64url').toString() || '{}') as Record<string, unknown>;
      const valid = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer'
        && createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s ?? '', 'base64url'))
        && claims.iss === 'pusher@proj.iam.gserviceaccount.com' && claims.aud === `http://${req.headers.host}/token`
        && claims.scope === 'https://www.googleapis.com/auth/cloud-platform';
      checked = valid ? 'valid' : 'invalid';
      return valid ? [200, { access_token: ACCESS, expires_in: 3600, token_type: 'Bearer' }] : [400, { error: 'invalid_grant' }];
    });
    try {
      const keyFile = join(work.path, 'sa.json');
      writeFileSync(keyFile, JSON.stringify({
        type: 'service_account', client_email: 'pusher@proj.iam.gserviceaccount.com', private_key_id: 'abc',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), token_uri: `${tokenEndpoint.url}/token`,
      }));
      const list = await cli(['list', `oci://${GAR_NAME}/gar/app`, '--provider', 'gcp'], { GOOGLE_APPLICATION_CREDENTIALS: keyFile, GCE_METADATA_HOST: '127.0.0.1:9' });
      expect(list.code, list.stderr).toBe(0);
      expect(checked).toBe('valid');
    } finally {
      await tokenEndpoint.stop();
    }
  });

  it('sends the Google token to no other registry: a usage error before the metadata server is asked', async () => {
    const metadata = await endpoint(() => [200, { access_token: ACCESS, expires_in: 3599, token_type: 'Bearer' }]);
    const other = await endpoint(() => [401, {}]);
    try {
      for (const args of [['--provider', 'gcp'], ['--registry-provider', 'gcp']]) {
        const pull = await cli(['pull', `oci://${other.host}/gar/app:v1`, '-o', join(work.path, 'gcp-other'), ...args], { GCE_METADATA_HOST: metadata.host });
        expect(pull.code).toBe(2);
        expect(pull.stderr).toMatch(/serves only Google registries \(gcr\.io, \*\.gcr\.io and Artifact Registry <location>-docker\.pkg\.dev\), not 127\.0\.0\.1:/);
      }
      expect(metadata.seen).toEqual([]);
      expect(other.seen).toEqual([]);
    } finally {
      await Promise.all([metadata.stop(), other.stop()]);
    }
  });
});

describe('--provider azure (AAD token exchanged for an ACR refresh token)', () => {
  const USER = 'acr-user';
  const AAD_TOKEN = `aad-${CANARY}`;
  let registry: TestRegistry;
  let acr: LoopbackProxy;
  let aad: Endpoint;
  const exchanges: URLSearchParams[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ token: { users: { [USER]: `pw-${CANARY}` } } });
    // ACR's login server: /oauth2/exchange in front of the real token-auth registry.
    acr = await startProxy({
      target: registry.host,
      onRequest: async (req) => {
        if (req.method !== 'POST' || req.path !== '/oauth2/exchange') return undefined;
        const form = new URLSearchParams((await req.body()).toString());
        exchanges.push(form);
        const ok = form.get('grant_type') === 'access_token' && form.get('access_token') === AAD_TOKEN && form.get('service') === ACR_NAME;
        return {
          kind: 'respond',
          status: ok ? 200 : 401,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ok ? { refresh_token: registry.token!.issueRefreshToken(USER) } : { errors: [{ code: 'UNAUTHORIZED' }] }),
        };
      },
    });
    routes[ACR_NAME] = acr.host;
    aad = await endpoint((req, body) => {
      if (req.url?.startsWith('/metadata/identity/oauth2/token')) {
        const q = new URL(req.url, 'http://x').searchParams;
        const ok = req.headers.metadata === 'true' && q.get('resource') === 'https://management.azure.com/' && q.get('api-version') !== null;
        return ok ? [200, { access_token: AAD_TOKEN, expires_in: '3599', token_type: 'Bearer' }] : [400, { error: 'invalid_request' }];
      }
      const form = new URLSearchParams(body);
      const ok = req.url === '/tenant-1/oauth2/v2.0/token' && form.get('grant_type') === 'client_credentials' && form.get('client_id') === 'app-1'
        && form.get('client_secret') === `sp-${CANARY}` && form.get('scope') === 'https://management.azure.com/.default';
      return ok ? [200, { access_token: AAD_TOKEN, expires_in: 3599, token_type: 'Bearer' }] : [401, { error: 'invalid_client' }];
    });
  });

  afterAll(async () => {
    await Promise.all([acr?.stop(), registry?.stop(), aad?.stop()]);
  });

  it('uses a service principal from the environment, and the refresh token at the token service', async () => {
    const before = registry.token!.requests.length;
    const push = await cli(['push', `oci://${ACR_NAME}/acr/app:v1`, '-f', content, ...META, '--provider', 'azure'], {
      AZURE_AUTHORITY_HOST: aad.url, AZURE_TENANT_ID: 'tenant-1', AZURE_CLIENT_ID: 'app-1', AZURE_CLIENT_SECRET: `sp-${CANARY}`,
    });
    expect(push.code, push.stderr).toBe(0);
    expect(exchanges.at(-1)?.get('tenant')).toBe('tenant-1');
    const tokenRequests = registry.token!.requests.slice(before);
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((r) => r.method === 'POST' && r.grantType === 'refresh_token' && r.user === USER)).toBe(true);
  });

  it('uses the managed identity endpoint when no service principal is set', async () => {
    const list = await cli(['list', `oci://${ACR_NAME}/acr/app`, '--provider', 'azure'], { AZURE_POD_IDENTITY_AUTHORITY_HOST: aad.url });
    expect(list.code, list.stderr).toBe(0);
    expect(aad.seen.at(-1)!.path).toMatch(/^\/metadata\/identity\/oauth2\/token\?/);
  });

  it('fails clearly when Azure AD refuses the client secret', async () => {
    const list = await cli(['list', `oci://${ACR_NAME}/acr/app`, '--provider', 'azure'], {
      AZURE_AUTHORITY_HOST: aad.url, AZURE_TENANT_ID: 'tenant-1', AZURE_CLIENT_ID: 'app-1', AZURE_CLIENT_SECRET: `wrong-${CANARY}`,
    });
    expect(list.code).toBe(4);
    expect(list.stderr).toMatch(/refused an Azure AD token for client app-1 \(401 invalid_client\)/);
  });
  it('copies from an untrusted source without posting the Azure AD token to its /oauth2/exchange', async () => {
    const before = aad.seen.length;
    const untrusted = await endpoint(() => [401, {}]);
    try {
      const copy = await cli(['copy', `oci://${untrusted.host}/bait:v1`, `oci://${ACR_NAME}/acr/copied:v1`, '--provider', 'azure'], {
        AZURE_AUTHORITY_HOST: aad.url, AZURE_TENANT_ID: 'tenant-1', AZURE_CLIENT_ID: 'app-1', AZURE_CLIENT_SECRET: `sp-${CANARY}`,
      });
      expect(copy.code).toBe(2);
      expect(copy.stderr).toMatch(/--provider azure serves only Azure Container Registry \(\*\.azurecr\.io, \*\.azurecr\.cn, \*\.azurecr\.de, \*\.azurecr\.us\), not 127\.0\.0\.1:/);
      expect(untrusted.seen).toEqual([]);
      expect(aad.seen.length).toBe(before);
    } finally {
      await untrusted.stop();
    }
  });
});
