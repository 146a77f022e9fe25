import { appendFile } from 'node:fs/promises';

export interface CiFacts {
  url: string;
  digest: string;
  reference?: string;
  source?: string;
  revision?: string;
  signatures?: string;
}

/**
 * CI reports of a command's result:
 * - GitHub Actions: a Markdown summary appended to $GITHUB_STEP_SUMMARY, `digest`/`url` step outputs in $GITHUB_OUTPUT;
 * - `--dotenv FILE` (GitLab CI's `artifacts:reports:dotenv`, or any CI): OCI_ARTIFACT_DIGEST / OCI_ARTIFACT_URL lines.
 */
export async function reportCi(command: string, facts: CiFacts, options: { dotenv?: string } = {}, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (options.dotenv) {
    await appendFile(options.dotenv, `OCI_ARTIFACT_DIGEST=${facts.digest}\nOCI_ARTIFACT_URL=${facts.url}\n`);
  }
  if (env.GITHUB_ACTIONS !== 'true') return;
  if (env.GITHUB_OUTPUT) {
    await appendFile(env.GITHUB_OUTPUT, `digest=${facts.digest}\nurl=${facts.url}\n`);
  }
  if (env.GITHUB_STEP_SUMMARY) {
    const rows = [
      ['Artifact', `\`${facts.reference ?? facts.url}\``],
      ['Digest', `\`${facts.digest}\``],
      ...(facts.source ? [['Source', facts.source]] : []),
      ...(facts.revision ? [['Revision', `\`${facts.revision}\``]] : []),
      ...(facts.signatures ? [['Signatures', facts.signatures]] : []),
    ];
    const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
    await appendFile(env.GITHUB_STEP_SUMMARY, `### oci-artifact ${command}\n\n${table}\n\n`);
  }
}
