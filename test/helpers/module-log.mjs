// Preloaded with `node --import ./test/helpers/module-log.mjs …`: appends to the file named by MODULE_LOG every
// module the process loads, one per line (file: URLs of ES modules and CommonJS files, node: builtins that were
// imported). test/e2e/startup.test.ts uses it to list what start-up loads.
import * as nodeModule from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const log = process.env.MODULE_LOG;
writeFileSync(log, '');
if (typeof nodeModule.registerHooks === 'function') {
  // Node 22.15+/23.5+: in-thread hooks, which also see require().
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(log, `${url}\n`);
      return nextLoad(url, context);
    },
  });
} else {
  // Node 20: the hooks run on a loader thread, which writes each URL before the module reaches the main thread
  // (a message posted back could still be in flight when the process exits).
  const hooks = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, nextLoad) { appendFileSync(log, url + '\\n'); return nextLoad(url, context); }`;
  nodeModule.register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { log } });
}

process.on('exit', () => {
  // CommonJS files required from CommonJS do not pass the Node 20 hooks: take them from require's cache.
  const required = Object.keys(nodeModule.createRequire(import.meta.url).cache).map((path) => pathToFileURL(path).href);
  appendFileSync(log, required.map((url) => `${url}\n`).join(''));
});
