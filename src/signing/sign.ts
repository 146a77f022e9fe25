/**
 * cosign-compatible keyed signing: a simple-signing layer appended to the `sha256-<hex>.sig` manifest (legacy),
 * or a Sigstore bundle v0.3 (DSSE over an in-toto statement, predicate cosign/sign/v1) pushed as a referrer,
 * listed in the `sha256-<hex>` fallback index as well for registries without the referrers API.
 * No transparency log upload: offline signatures, which cosign verifies with --insecure-ignore-tlog.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Annotation, MediaType } from '../oci/mediatypes.js';
import { addToFallbackIndex } from '../oci/referrers.js';
import type { Descriptor, ImageManifest, Repository } from '../oci/types.js';
import { digestOf, parseDigest } from '../ref/digest.js';
import { COSIGN_SIGN_PREDICATE, IN_TOTO_PAYLOAD_TYPE, SIMPLE_SIGNING_TYPE } from './cosign-verify.js';
import { legacySignatureTag, MAX_LEGACY_SIGNATURE_LAYERS, readLegacySignatureManifest, tooManyLegacyLayers } from './discovery.js';
import { loadPrivateKeyFile, signWithKey, spkiDer } from './keys.js';
import type { SignOptions, SignResult } from './types.js';

const EMPTY_CONFIG = Buffer.from('{}');

function descriptorOf(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length, ...extra };
}

async function pushBlob(repo: Repository, desc: Descriptor, bytes: Buffer, signal?: AbortSignal): Promise<void> {
  await repo.pushBlob(desc, bytes, { signal });
}

function simpleSigningPayload(digest: string, dockerReference: string, optional?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: SIMPLE_SIGNING_TYPE },
      optional: optional && Object.keys(optional).length > 0 ? optional : null,
    }),
  );
}

async function signLegacy(repo: Repository, subject: Descriptor, key: KeyObject, options: SignOptions, signal?: AbortSignal): Promise<SignResult> {
  const tag = legacySignatureTag(subject.digest);
  const payload = simpleSigningPayload(subject.digest, options.dockerReference ?? repo.displayName, options.annotations);
  const signature = signWithKey(key, payload).toString('base64');
  const layer = descriptorOf(MediaType.CosignSimpleSigning, payload, { annotations: { [Annotation.CosignSignature]: signature } });
  const previous = await readLegacySignatureManifest(repo, subject.digest, signal);
  const kept = (previous?.layers ?? []).filter((l) => !(l.digest === layer.digest && l.annotations?.[Annotation.CosignSignature] === signature));
  const layers = [...kept, layer];
  // Refuse to write a manifest that verification would refuse to read.
  if (layers.length > MAX_LEGACY_SIGNATURE_LAYERS) throw tooManyLegacyLayers(repo, tag, layers.length);
  // An image config whose rootfs lists the layers, as go-containerregistry (and so cosign) writes it.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDesc = descriptorOf(MediaType.OciConfig, config);
  await pushBlob(repo, layer, payload, signal);
  await pushBlob(repo, configDesc, config, signal);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers };
  await repo.putManifest(tag, Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, { signal });
  return { kind: 'cosign-legacy', location: tag };
}

/** DSSE pre-authentication encoding. */
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

function signedBundle(subject: Descriptor, key: KeyObject, name: string): Buffer {
  const { algorithm, hex } = parseDigest(subject.digest);
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name, digest: { [algorithm]: hex } }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
  const sig = signWithKey(key, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement));
  const hint = createHash('sha256').update(spkiDer(createPublicKey(key))).digest('base64');
  const bundle = {
    mediaType: MediaType.SigstoreBundle,
    verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
  bundleFromJSON(bundle); // what we write must be what we (and cosign) can read back
  return Buffer.from(JSON.stringify(bundle));
}

async function signBundle(repo: Repository, subject: Descriptor, key: KeyObject, options: SignOptions, signal?: AbortSignal): Promise<SignResult> {
  const bundle = signedBundle(subject, key, options.dockerReference ?? repo.displayName);
  const layer = descriptorOf(MediaType.SigstoreBundle, bundle);
  const config = descriptorOf(MediaType.OciEmpty, EMPTY_CONFIG);
  const annotations = {
    ...options.annotations,
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE,
    [Annotation.Created]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: MediaType.SigstoreBundle,
    config,
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  await pushBlob(repo, config, EMPTY_CONFIG, signal);
  await pushBlob(repo, layer, bundle, signal);
  const digest = await repo.putManifest(digestOf(bytes), bytes, MediaType.OciManifest, { signal });
  await addToFallbackIndex(repo, subject.digest, [descriptorOf(MediaType.OciManifest, bytes, { artifactType: MediaType.SigstoreBundle, annotations })], signal);
  return { kind: 'cosign-bundle', location: digest };
}

export async function signArtifact(repo: Repository, subject: Descriptor, options: SignOptions & { signal?: AbortSignal }): Promise<SignResult> {
  const key = loadPrivateKeyFile(options.keyPath, options.password);
  return options.format === 'bundle'
    ? signBundle(repo, subject, key, options, options.signal)
    : signLegacy(repo, subject, key, options, options.signal);
}
