/** OCI, Docker, Flux, cosign and notation media types and annotation keys, in one place. */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerLayerTarGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  FluxConfig: 'application/vnd.cncf.flux.config.v1+json',
  FluxContent: 'application/vnd.cncf.flux.content.v1.tar+gzip',
  HelmConfig: 'application/vnd.cncf.helm.config.v1+json',
  HelmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  CosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  SigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  NotarySignature: 'application/vnd.cncf.notary.signature',
  NotaryPayload: 'application/vnd.cncf.notary.payload.v1+json',
  Jose: 'application/jose+json',
  Cose: 'application/cose',
} as const;

/** Manifest media types this tool asks for and accepts. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

/** Annotation keys (image-spec annotations.md, cosign). */
export const Annotation = {
  Title: 'org.opencontainers.image.title',
  Source: 'org.opencontainers.image.source',
  Revision: 'org.opencontainers.image.revision',
  Created: 'org.opencontainers.image.created',
  CosignSignature: 'dev.cosignproject.cosign/signature',
  CosignCertificate: 'dev.sigstore.cosign/certificate',
  CosignChain: 'dev.sigstore.cosign/chain',
  CosignBundle: 'dev.sigstore.cosign/bundle',
  /** On a cosign v3 bundle layer: what the bundle holds, and the in-toto predicate type of its statement. */
  SigstoreBundleContent: 'dev.sigstore.bundle.content',
  SigstoreBundlePredicateType: 'dev.sigstore.bundle.predicateType',
} as const;

/** The in-toto predicate type of a plain cosign signature (a bundle of any other type is an attestation). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/** Largest manifest accepted from anywhere (the same cap as oras-go and distribution). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
