/** Help text appended to `--help`: examples in Flux's style and the exit-code table. */

export const EXIT_CODE_HELP = `
Exit codes:
  0    success
  1    differences found (diff) or no signature satisfied the policy (verify)
  2    usage error: bad flag, reference or path
  3    registry or network error, or unusable content
  4    authentication error: credentials missing, wrong or refused
  70   internal error (a bug: please report it with --debug output)
  130  interrupted (Ctrl-C)
`;

export const EXAMPLES = {
  push: `
Examples:
  # Push the manifests in ./deploy, taking source and revision from git or the CI environment
  oci-artifact push oci://ghcr.io/org/app-manifests:v1.0.0 --path ./deploy

  # The same, Flux style, with explicit provenance and credentials
  oci-artifact push oci://ghcr.io/org/app-manifests:$(git rev-parse --short HEAD) \\
    --path="./deploy" \\
    --source="$(git config --get remote.origin.url)" \\
    --revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)" \\
    --creds flux:$GITHUB_TOKEN

  # Push the output of kustomize build (stdin) to Docker Hub
  kustomize build ./overlays/prod | oci-artifact push oci://docker.io/org/app:prod -f -

  # Push and hand the digest to cosign
  oci-artifact push oci://ghcr.io/org/app:v1 -f ./deploy -o json | jq -r '.repository + "@" + .digest' | xargs cosign sign --yes

  # Push to Amazon ECR with the ambient AWS identity
  oci-artifact push oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1 -f ./deploy --provider aws

  # Push to a local OCI layout (no registry needed)
  oci-artifact push oci-layout://./store:v1 -f ./deploy --reproducible
`,
  pull: `
Examples:
  # Pull and extract into ./out
  oci-artifact pull oci://ghcr.io/org/app-manifests:v1.0.0 --output ./out

  # Pull from Docker Hub by digest, printing the result as JSON
  oci-artifact pull oci://docker.io/org/app@sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de -o ./out --format json

  # Pull a Helm chart layer from an artifact whose layers are sorted by digest
  oci-artifact pull oci://ghcr.io/org/charts/app:1.2.3 -o ./chart \\
    --layer-media-type application/vnd.cncf.helm.chart.content.v1.tar+gzip

  # Verify the cosign signature before anything is written
  oci-artifact pull oci://ghcr.io/org/app:v1 -o ./out --verify --key cosign.pub
`,
  verify: `
Examples:
  # cosign, with a public key
  oci-artifact verify oci://ghcr.io/org/app:v1 --key cosign.pub

  # cosign keyless, offline with a trusted root
  oci-artifact verify oci://ghcr.io/org/app:v1 \\
    --certificate-identity-regexp '^https://github.com/org/' \\
    --certificate-oidc-issuer https://token.actions.githubusercontent.com \\
    --trusted-root trusted_root.json

  # notation
  oci-artifact verify oci://registry.example.com/app:v1 --provider notation \\
    --trust-policy trustpolicy.json --trust-store ./truststore
`,
  sign: `
Examples:
  # legacy cosign signature (.sig tag), read by every Flux and cosign version
  oci-artifact sign oci://ghcr.io/org/app:v1 --key cosign.key

  # sigstore bundle stored as an OCI referrer (cosign v3 style)
  COSIGN_PASSWORD=... oci-artifact sign oci://ghcr.io/org/app:v1 --key cosign.key --format bundle
`,
  copy: `
Examples:
  # Mirror an artifact and its signatures into another registry
  oci-artifact copy oci://ghcr.io/org/app:v1 oci://registry.internal/mirror/app

  # Carry it into an air-gapped site as an OCI layout, then push it there
  oci-artifact copy oci://ghcr.io/org/app:v1 oci-layout://./transfer
  oci-artifact copy oci-layout://./transfer:v1 oci://registry.airgap.local/app:v1

  # Only the artifact, without signatures or referrers
  oci-artifact copy oci://ghcr.io/org/app:v1 oci-layout://./store --no-include-signatures
`,
  inspect: `
Examples:
  # Manifest, config, annotations, layers and attached signatures
  oci-artifact inspect oci://ghcr.io/org/app:v1

  # Also list the files of the content layer
  oci-artifact inspect oci-layout://./store:v1 --files

  # The raw manifest as JSON
  oci-artifact inspect oci://ghcr.io/org/app:v1 -o json | jq .manifest
`,
  tag: `
Examples:
  # Promote a version to latest and stable (the manifest bytes and digest are kept)
  oci-artifact tag oci://ghcr.io/org/app-manifests:v1.0.0 --tag latest --tag stable

  # Tag by digest, several tags at once
  oci-artifact tag oci://ghcr.io/org/app@sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de --tag prod,v1

  # Tag into another repository of the same registry (blobs are mounted, not uploaded again)
  oci-artifact tag oci://ghcr.io/org/staging/app:v1 --to oci://ghcr.io/org/prod/app --tag v1 -o json
`,
  list: `
Examples:
  # All artifacts of a repository, newest tag first
  oci-artifact list oci://ghcr.io/org/app-manifests

  # Only 1.x releases (a leading v is accepted), as JSON
  oci-artifact list oci://ghcr.io/org/app-manifests --filter-semver '>=1.0.0 <2.0.0' -o json

  # Tags of main-branch builds, signatures included
  oci-artifact list oci://ghcr.io/org/app-manifests --filter-regex '^main-' --all
`,
  diff: `
Examples:
  # What would a push of ./deploy change? (exit 0 same, 1 different, 2+ error)
  oci-artifact diff oci://ghcr.io/org/app-manifests:latest --path ./deploy

  # The same as a unified diff, and as Kubernetes objects
  oci-artifact diff oci://ghcr.io/org/app-manifests:latest --path ./deploy --unified
  oci-artifact diff oci://ghcr.io/org/app-manifests:latest --path ./deploy --semantic

  # Compare two releases; only the changed paths, for scripts
  oci-artifact diff oci://ghcr.io/org/app:v1.0.0 oci://ghcr.io/org/app:v1.1.0 --brief
`,
  'generate-key-pair': `
Examples:
  # cosign.key and cosign.pub in the current directory; the password is asked twice
  oci-artifact generate-key-pair

  # in CI, with the password from the environment, then sign and verify with the pair
  COSIGN_PASSWORD="$KEY_PASSWORD" oci-artifact generate-key-pair --output-key-prefix release
  COSIGN_PASSWORD="$KEY_PASSWORD" oci-artifact sign oci://ghcr.io/org/app:v1 --key release.key
  oci-artifact verify oci://ghcr.io/org/app:v1 --key release.pub
`,
  build: `
Examples:
  # Build the artifact tarball locally, as flux build artifact does
  oci-artifact build --path ./deploy --output artifact.tgz
`,
};
