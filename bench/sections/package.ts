import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODE, ROOT, cliEnv, type BenchContext } from '../lib/context.js';
import { runOk } from '../lib/proc.js';
import { median, mib, ms, ratio, type SectionResult } from '../lib/report.js';

/** What scripts/package-figures.mjs measures (it writes the README's package paragraph from the same figures). */
interface PackageFigures {
  packFigures(): { size: number; unpackedSize: number; files: number };
  installFigures(options?: { keep?: boolean }): { installedSize: number; dependencies: number; sigstoreSize: number; installMs: number; dir?: string };
}

/** Timed installs after the warming one (each takes seconds). */
const INSTALLS = 2;

/**
 * npx cost (issue 17 item 5): the packed tarball installed into an empty project with a warm npm cache, as
 * `npx oci-artifact` does on a CI runner that has run it before: installed size, package count, the `npm install`
 * time, then the first `--version` from that install against bare `node -e 0`.
 */
export async function packageCost(ctx: BenchContext): Promise<SectionResult> {
  const figures = (await import(pathToFileURL(join(ROOT, 'scripts', 'package-figures.mjs')).href)) as PackageFigures;
  const pack = figures.packFigures();
  ctx.log('  warming the npm cache with one install');
  figures.installFigures();
  const installs: { installMs: number; firstVersionMs: number; bareMs: number }[] = [];
  let last: ReturnType<PackageFigures['installFigures']> | undefined;
  for (let i = 0; i < INSTALLS; i++) {
    const install = figures.installFigures({ keep: true });
    try {
      const bin = join(install.dir!, 'node_modules', 'oci-artifact', 'bin', 'oci-artifact.js');
      const first = await runOk(NODE, [bin, '--version'], { env: cliEnv(), cwd: install.dir! });
      const bare = await runOk(NODE, ['-e', '0']);
      installs.push({ installMs: install.installMs, firstVersionMs: first.ms, bareMs: bare.ms });
      last = install;
    } finally {
      rmSync(install.dir!, { recursive: true, force: true });
    }
  }
  const bare = median(installs.map((i) => i.bareMs));
  const installMs = median(installs.map((i) => i.installMs));
  const firstVersionMs = median(installs.map((i) => i.firstVersionMs));
  const MiB = 2 ** 20;
  return {
    title: 'npx cost: the packed tarball installed with a warm npm cache',
    tables: [{
      columns: ['package', 'unpacked', 'installed', 'of it sigstore', 'packages', 'npm install', 'first --version', 'vs node -e 0'],
      rows: [[`${(pack.size / 1024).toFixed(0)} KiB`, `${(pack.unpackedSize / 1024).toFixed(0)} KiB`, mib(last!.installedSize / MiB), mib(last!.sigstoreSize / MiB),
        String(last!.dependencies + 1), ms(installMs), ms(firstVersionMs), ratio(firstVersionMs / bare)]],
    }],
    notes: [
      `npm install --omit=dev --prefer-offline --no-audit --no-fund of the \`npm pack\` tarball into an empty project, after one install that warms the cache; median of ${installs.length}.`,
      'Measured by scripts/package-figures.mjs, which also writes the README\'s package paragraph; packages counts oci-artifact and its dependencies.',
    ],
    targets: [
      { name: 'npx cost: installed size', measured: last!.installedSize / MiB, limit: undefined, unit: ' MiB' },
      { name: 'npx cost: packages installed', measured: last!.dependencies + 1, limit: undefined, unit: '' },
      { name: 'npx cost: npm install, warm cache', measured: installMs, limit: undefined, unit: ' ms' },
      { name: 'npx cost: first --version after the install', measured: firstVersionMs, limit: undefined, unit: ' ms' },
    ],
  };
}
