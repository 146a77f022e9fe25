import { Option } from '@commander-js/extra-typings';
import { usageError } from '../../errors.js';
import { reportSigned } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { collect } from '../flag-values.js';
import { withDotenvFlag, withProviderFlag } from '../flags.js';
import { signerFromFlags, withKeylessFlags } from '../keyless-flags.js';

/**
 * `sign REF --key KEY` or `sign REF --keyless`: a cosign-compatible signature, as a legacy .sig tag or a sigstore
 * bundle referrer; or with `--format notation --key KEY --cert CHAIN`, a notation signature (JWS or COSE envelope)
 * as a referrer.
 */
export function signCommand() {
  return withKeylessFlags(withDotenvFlag(withProviderFlag(newCommand('sign'))), 'keyless')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .addOption(new Option('--key <path>', 'private key: PEM (EC, RSA, Ed25519) or cosign encrypted (COSIGN_PASSWORD)'))
    .option('--keyless', 'cosign: sign with a short-lived Fulcio certificate for the CI job\'s OIDC identity, logged in Rekor')
    .addOption(new Option('--format <format>', 'legacy .sig tag, a sigstore bundle referrer, or a notation signature').choices(['legacy', 'bundle', 'notation'] as const).default('legacy'))
    .option('--cert <path>', 'notation: the signing certificate, then its issuers up to the root (PEM)')
    .addOption(new Option('--signature-format <format>', 'notation: envelope format').choices(['jws', 'cose'] as const))
    .option('--expiry <duration>', 'notation: how long the signature stays valid (e.g. 720h); no expiry without it')
    .option('-a, --annotations <key=value>', 'annotation to add to the signature (repeatable)', collect)
    .option('-o, --output <format>', 'table, json or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { ref, format } = await parseArtifactArguments(reference, flags.output);
      const notation = flags.format === 'notation';
      if (notation && flags.cert === undefined) throw usageError('FLAG_MISSING', '--format notation needs --cert <certificate chain>', 'pass the signing certificate, then its issuers, as PEM');
      const notationOnly = [flags.cert !== undefined && '--cert', flags.signatureFormat !== undefined && '--signature-format', flags.expiry !== undefined && '--expiry'].filter(Boolean);
      if (!notation && notationOnly.length > 0) throw usageError('FLAG_CONFLICT', `${notationOnly.join(', ')} only act with --format notation`);
      const { parseDuration } = await import('../duration.js');
      const expirySeconds = flags.expiry === undefined ? undefined : parseDuration(flags.expiry) / 1000;
      if (notation && flags.keyless) throw usageError('FLAG_CONFLICT', '--keyless makes cosign signatures; --format notation signs with --key and --cert');
      const { keyPath, password, keyless } = await signerFromFlags('sign', cmd.optsWithGlobals());
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { sign } = await import('../../ops/sign.js');
        const { parseAnnotationFlags } = await import('../../artifact/manifest.js');
        const annotations = parseAnnotationFlags(flags.annotations ?? []);
        const result = flags.format === 'notation'
          ? await (await import('../../ops/sign-notation.js')).signWithNotation({
            ref, keyPath: keyPath as string, certChainPath: flags.cert as string, password, envelope: flags.signatureFormat, expirySeconds, userMetadata: annotations,
          }, ctx)
          : await sign({ ref, keyPath, password, keyless, format: flags.format, annotations }, ctx);
        const signer = 'signer' in result ? result.signer : undefined;
        reporter.success(`signed ${result.reference} (${result.kind} at ${result.location})${signer ? ` as ${signer.identity}` : ''}`);
        await reportSigned('sign', ref, result, `signed (${result.kind} at ${result.location})`, format, flags.dotenv);
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # legacy cosign signature (.sig tag), read by every Flux and cosign version
  oci-artifact sign oci://ghcr.io/org/app:v1 --key cosign.key

  # keyless, in GitHub Actions (permissions: id-token: write) or GitLab CI (SIGSTORE_ID_TOKEN)
  oci-artifact sign oci://ghcr.io/org/app:v1 --keyless

  # keyless with a token from elsewhere, against a private Sigstore
  oci-artifact sign oci://registry.internal/app:v1 --keyless --identity-token token.jwt \\
    --fulcio-url https://fulcio.internal --rekor-url https://rekor.internal --trusted-root trusted_root.json

  # sigstore bundle stored as an OCI referrer (cosign v3 style)
  COSIGN_PASSWORD=... oci-artifact sign oci://ghcr.io/org/app:v1 --key cosign.key --format bundle

  # notation signature (JWS; --signature-format cose for COSE), valid for 30 days
  oci-artifact sign oci://registry.example.com/app:v1 --format notation --key signer.key --cert signer-chain.pem --expiry 720h
`;
