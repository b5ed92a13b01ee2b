// `npm run bench -- <name> [args]`: runs bench/<name>.ts's exported run(args). Each benchmark prints
// its figures beside a baseline measured in the same run.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exitWhenDone } from './cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Modules that are parts of a benchmark (children, baselines), not benchmarks of their own. */
const PARTS = /^(run|cli|scratch-db|admin-gql)\.ts$|^restart-|-(load|client|baseline|pool|measure)\.ts$/;

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const names = (await readdir(here)).filter((f) => f.endsWith('.ts') && !PARTS.test(f)).map((f) => f.slice(0, -3));
  if (!name || !names.includes(name)) {
    console.error(`usage: npm run bench -- <${names.sort().join('|')}> [args]`);
    process.exit(name ? 1 : 0);
  }
  const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as { run?: (argv: string[]) => Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts exports no run(argv)`);
  await mod.run(args);
}

exitWhenDone(main());
