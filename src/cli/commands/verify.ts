import { reportCi } from '../ci-report.js';
import { handler, newCommand, withRuntime } from '../command.js';
import { verifyPolicy, withDotenvFlag, withVerifyFlags } from '../flags.js';

/** `verify REF`: check the cosign or notation signatures of an artifact against a policy, as Flux does. */
export function verifyCommand() {
  const command = newCommand('verify')
    .description('verify the cosign or notation signatures of an artifact, as Flux does')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .option('--attestation <type>', 'check attestations of this type instead of signatures: slsaprovenance1, spdx, cyclonedx, ... or a predicate type URI')
    .option('-o, --output <format>', 'table, json or yaml');
  return withDotenvFlag(withVerifyFlags(command, '--provider'))
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { formatReference, parseReference, withVersion } = await import('../../ref/reference.js');
      const { countOf } = await import('../../output/format.js');
      const { parseOutputFormat, printDocument } = await import('../../output/printer.js');
      const ref = parseReference(reference);
      const format = parseOutputFormat(flags.output, 'table');
      const policy = verifyPolicy(flags.provider, flags);
      if (flags.attestation !== undefined) {
        const attestation = flags.attestation;
        return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
          const { verifyAttestation } = await import('../../ops/verify-attestation.js');
          const result = await verifyAttestation(ref, policy, attestation, ctx);
          reporter.finish();
          if (format !== 'table') await printDocument(process.stdout, format, result);
          else for (const a of result.attestations) {
            const line = `attestation ${a.source}${a.signer ? ` signer=${a.signer}` : ''}: ${a.reason}`;
            if (a.verified) reporter.success(line);
            else reporter.notice(line);
          }
          const verifiedCount = result.attestations.filter((a) => a.verified).length;
          const summary = result.attestations.length === 0
            ? `${result.reason} for ${result.reference}`
            : `${verifiedCount} of ${countOf(result.attestations.length, 'attestation')} verified for ${result.reference} (${result.predicateType})`;
          if (result.verified) reporter.success(summary);
          else reporter.error(`verification failed: ${summary}`);
          await reportCi('verify', {
            url: formatReference(withVersion(ref, { digest: result.digest })),
            digest: result.digest,
            reference: result.reference,
            signatures: result.verified ? `attestation verified (${result.predicateType})` : 'FAILED',
          }, flags.dotenv);
          return result.verified ? 0 : 1;
        });
      }
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { verify } = await import('../../ops/verify.js');
        const result = await verify({ ref, policy }, ctx);
        reporter.finish();
        if (format !== 'table') {
          await printDocument(process.stdout, format, result);
        } else {
          // One ✗ line per failure, as for every other error: the rejected signatures are details of the summary.
          for (const s of result.signatures) {
            const line = `${s.kind} ${s.source}${s.signer ? ` signer=${s.signer}` : ''}: ${s.reason}`;
            if (s.verified) reporter.success(line);
            else reporter.notice(line);
          }
        }
        const verifiedCount = result.signatures.filter((s) => s.verified).length;
        const summary = result.signatures.length === 0
          ? `no signatures found for ${result.reference}`
          : `${verifiedCount} of ${countOf(result.signatures.length, 'signature')} verified for ${result.reference}`;
        if (result.verified) reporter.success(summary);
        else reporter.error(`verification failed: ${summary}`);
        await reportCi('verify', {
          url: formatReference(withVersion(ref, { digest: result.digest })),
          digest: result.digest,
          reference: result.reference,
          signatures: result.verified ? `verified (${verifiedCount})` : 'FAILED',
        }, flags.dotenv);
        return result.verified ? 0 : 1;
      });
    }));
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
