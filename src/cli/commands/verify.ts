import type { OpContext } from '../../ops/support/context.js';
import type { ArtifactReference } from '../../ref/reference.js';
import type { VerifyPolicy } from '../../signing/index.js';
import { reportCi } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { verifyPolicy, withDotenvFlag, withVerifyFlags } from '../flags.js';

/** `verify REF`: check the cosign or notation signatures of an artifact against a policy, as Flux does. */
export function verifyCommand() {
  const command = newCommand('verify')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .option('--attestation <type>', 'check attestations of this type instead of signatures: slsaprovenance1, spdx, cyclonedx, ... or a predicate type URI')
    .option('-o, --output <format>', 'table, json or yaml');
  return withDotenvFlag(withVerifyFlags(command, '--provider'))
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { ref, format } = await parseArtifactArguments(reference, flags.output);
      const { formatReference, withVersion } = await import('../../ref/reference.js');
      const { countOf } = await import('../../output/format.js');
      const { printDocument } = await import('../../output/printer.js');
      const policy = verifyPolicy(flags.provider, flags);
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const outcome = flags.attestation === undefined
          ? await checkSignatures(ref, policy, ctx)
          : await checkAttestations(ref, policy, flags.attestation, ctx);
        const { result, items, noun, about } = outcome;
        reporter.finish();
        if (format !== 'table') {
          await printDocument(process.stdout, format, result);
        } else {
          // One ✗ line per failure, as for every other error: the rejected items are details of the summary.
          for (const item of items) {
            const line = `${noun === 'signature' ? item.kind : noun} ${item.source}${item.signer ? ` signer=${item.signer}` : ''}: ${item.reason}`;
            if (item.verified) reporter.success(line);
            else reporter.notice(line);
          }
        }
        const verifiedCount = items.filter((item) => item.verified).length;
        const summary = items.length === 0
          ? outcome.none
          : `${verifiedCount} of ${countOf(items.length, noun)} verified for ${result.reference}${about}`;
        if (result.verified) reporter.success(summary);
        else reporter.error(`verification failed: ${summary}`);
        await reportCi('verify', {
          url: formatReference(withVersion(ref, { digest: result.digest })),
          digest: result.digest,
          reference: result.reference,
          signatures: !result.verified ? 'FAILED' : noun === 'signature' ? `verified (${verifiedCount})` : `attestation verified${about}`,
        }, flags.dotenv);
        return result.verified ? 0 : 1;
      });
    }));
}

/** What verify reports on: the signatures or the attestations of one type, each checked item with its reason. */
interface Checked {
  result: { digest: string; reference: string; verified: boolean };
  items: Array<{ kind: string; source: string; signer?: string; verified: boolean; reason: string }>;
  noun: 'signature' | 'attestation';
  /** The summary when nothing was found. */
  none: string;
  /** Appended to the summary: the predicate type of attestations. */
  about: string;
}

async function checkSignatures(ref: ArtifactReference, policy: VerifyPolicy, ctx: OpContext): Promise<Checked> {
  const { verify } = await import('../../ops/verify.js');
  const result = await verify({ ref, policy }, ctx);
  return { result, items: result.signatures, noun: 'signature', none: `no signatures found for ${result.reference}`, about: '' };
}

async function checkAttestations(ref: ArtifactReference, policy: VerifyPolicy, predicateType: string, ctx: OpContext): Promise<Checked> {
  const { verifyAttestation } = await import('../../ops/verify-attestation.js');
  const result = await verifyAttestation(ref, policy, predicateType, ctx);
  return { result, items: result.attestations, noun: 'attestation', none: `${result.reason} for ${result.reference}`, about: ` (${result.predicateType})` };
}

const EXAMPLES = `
Examples:
  # cosign, with a public key
  oci-artifact verify oci://ghcr.io/org/app:v1 --key cosign.pub

  # cosign keyless, offline with a trusted root
  oci-artifact verify oci://ghcr.io/org/app:v1 \\
    --certificate-identity-regexp '^https://github.com/org/' \\
    --certificate-oidc-issuer https://token.actions.githubusercontent.com \\
    --trusted-root trusted_root.json

  # an attestation of a type (SLSA v1 provenance), printing its predicate
  oci-artifact verify oci://ghcr.io/org/app:v1 --attestation slsaprovenance1 --key cosign.pub -o json

  # notation
  oci-artifact verify oci://registry.example.com/app:v1 --provider notation \\
    --trust-policy trustpolicy.json --trust-store ./truststore
`;
