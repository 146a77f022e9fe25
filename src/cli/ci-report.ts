import { appendFile } from 'node:fs/promises';
import type { OutputFormat } from '../output/printer.js';
import type { ArtifactReference } from '../ref/reference.js';

export interface CiFacts {
  /** `oci://host/repo@sha256:…` (or `oci-layout://…`): where the artifact is, pinned to its digest. */
  url: string;
  /** The artifact's digest (for `sign`, the digest that was signed). */
  digest: string;
  /** What the summary names the artifact by (tagged references); `url` when absent. */
  reference?: string;
  source?: string;
  revision?: string;
  signatures?: string;
  /** push: false when --if-changed found the same content behind the tag (url and digest are then the tag's). */
  pushed?: boolean;
}

export function underGithubActions(env: Record<string, string | undefined> = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** The file GitHub Actions shows as this step's summary, when running under it and it is set. */
export function stepSummaryFile(env: Record<string, string | undefined> = process.env): string | undefined {
  return underGithubActions(env) && env.GITHUB_STEP_SUMMARY ? env.GITHUB_STEP_SUMMARY : undefined;
}

/**
 * Append a Markdown document to the step summary (other steps' and commands' summaries are kept). A write that fails
 * is `warn`ed about, not thrown: the summary is a courtesy, the command's result stands.
 */
export async function appendStepSummary(file: string, markdown: string, warn: (message: string) => void): Promise<void> {
  try {
    await appendFile(file, markdown.endsWith('\n') ? `${markdown}\n` : `${markdown}\n\n`);
  } catch (err) {
    warn(`could not append to $GITHUB_STEP_SUMMARY: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A workflow command's data: GitHub decodes %25, %0D and %0A, so those three are all that must be encoded. */
export function githubErrorLine(message: string): string {
  return `::error::${message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`;
}

/**
 * CI reports of a command's result:
 * - GitHub Actions: a Markdown summary appended to $GITHUB_STEP_SUMMARY, `digest`/`url` step outputs in $GITHUB_OUTPUT;
 * - `--dotenv FILE` (GitLab CI's `artifacts:reports:dotenv`, or any CI): OCI_ARTIFACT_DIGEST / OCI_ARTIFACT_URL lines.
 */
export async function reportCi(command: string, facts: CiFacts, dotenv: string | undefined, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (dotenv !== undefined) {
    const pushed = facts.pushed === undefined ? '' : `OCI_ARTIFACT_PUSHED=${facts.pushed}\n`;
    await appendFile(dotenv, `OCI_ARTIFACT_DIGEST=${facts.digest}\nOCI_ARTIFACT_URL=${facts.url}\n${pushed}`);
  }
  if (!underGithubActions(env)) return;
  if (env.GITHUB_OUTPUT) {
    await appendFile(env.GITHUB_OUTPUT, `digest=${facts.digest}\nurl=${facts.url}\n${facts.pushed === undefined ? '' : `pushed=${facts.pushed}\n`}`);
  }
  if (env.GITHUB_STEP_SUMMARY) {
    const rows = [
      ['Artifact', code(facts.reference ?? facts.url)],
      ['Digest', code(facts.digest)],
      ...(facts.source ? [['Source', text(facts.source)]] : []),
      ...(facts.revision ? [['Revision', code(facts.revision)]] : []),
      ...(facts.signatures ? [['Signatures', text(facts.signatures)]] : []),
      ...(facts.pushed === false ? [['Pushed', 'no: the content is unchanged']] : []),
    ];
    const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
    await appendFile(env.GITHUB_STEP_SUMMARY, `### oci-artifact ${command}\n\n${table}\n\n`);
  }
}

/**
 * sign and attest end the same way: CI reports name the artifact that was signed, pinned to the digest the op signed,
 * as for every other command (`added`, what was added, goes in the summary's Signatures row), then `-o json|yaml`
 * prints the command's whole result.
 */
export async function reportSigned(
  command: 'sign' | 'attest', ref: ArtifactReference, result: { digest: string; reference: string }, added: string, output: OutputFormat, dotenv: string | undefined,
): Promise<void> {
  const { formatReference, withVersion } = await import('../ref/reference.js');
  const { printResult } = await import('../output/printer.js');
  await reportCi(command, { url: formatReference(withVersion(ref, { digest: result.digest })), digest: result.digest, reference: result.reference, signatures: added }, dotenv);
  await printResult(process.stdout, output, result);
}

/**
 * Source and revision come from the artifact's annotations, i.e. from whoever pushed it: inside a table cell they
 * must not end the row (newline), add a column (`|`) or close the code span (backtick).
 */
function text(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\|/g, '\\|');
}

function code(value: string): string {
  return `\`${text(value).replace(/`/g, "'")}\``;
}

/** One artifact of `push --all`, as CI is told about it. */
export interface CiArtifact {
  name: string;
  reference: string;
  status: string;
  digest?: string;
  url?: string;
}

/**
 * `push --all`: GitHub Actions gets one summary table and the step output `artifacts` (a JSON list, for
 * `fromJSON`); `--dotenv` gets OCI_ARTIFACT_<NAME>_DIGEST / _URL / _PUSHED per artifact (the name upper-cased,
 * other characters as `_`).
 */
export async function reportCiAll(artifacts: CiArtifact[], dotenv: string | undefined, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (dotenv !== undefined) {
    const lines = artifacts.filter((a) => a.digest !== undefined).map((a) => {
      const name = a.name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
      return `OCI_ARTIFACT_${name}_DIGEST=${a.digest}\nOCI_ARTIFACT_${name}_URL=${a.url}\nOCI_ARTIFACT_${name}_PUSHED=${a.status === 'pushed'}\n`;
    });
    await appendFile(dotenv, lines.join(''));
  }
  if (!underGithubActions(env)) return;
  if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, `artifacts=${JSON.stringify(artifacts)}\n`);
  if (env.GITHUB_STEP_SUMMARY) {
    const rows = artifacts.map((a) => `| ${text(a.name)} | ${a.status} | ${code(a.reference)} | ${a.digest ? code(a.digest) : ''} |`);
    await appendFile(env.GITHUB_STEP_SUMMARY, `### oci-artifact push --all\n\n| Artifact | Status | Reference | Digest |\n|---|---|---|---|\n${rows.join('\n')}\n\n`);
  }
}
