// Builds the fleet board into web/dist: one minified script and one stylesheet with content hashes
// (served as immutable), their gzip twins, and index.html pointing at them. Offline: only esbuild
// and the npm packages in node_modules. Runs at `npm install` (postinstall) and before `npm start`
// when web/dist is missing; `--if-missing` makes it a no-op when a build is there.
//
//   node web/build.mjs [--if-missing] [--quiet]      (BOARD_MINIFY=0: readable output, for profiling)
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const args = new Set(process.argv.slice(2));

if (args.has('--if-missing') && existsSync(join(out, 'index.html'))) process.exit(0);

const started = performance.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src/main.tsx') },
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: process.env.BOARD_MINIFY !== "0",
  format: 'esm',
  target: ['chrome111', 'firefox113', 'safari16.4'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((f) => f.endsWith('.js'));
const styles = outputs.find((f) => f.endsWith('.css'));
const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#0f172a"/>' +
  '<circle cx="11" cy="11" r="4" fill="#16a34a"/><circle cx="21" cy="11" r="4" fill="#3b82f6"/>' +
  '<circle cx="11" cy="21" r="4" fill="#d97706"/><circle cx="21" cy="21" r="4" fill="#16a34a"/></svg>';
writeFileSync(join(out, 'assets', 'favicon.svg'), favicon);
writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleet board</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/${styles}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The fleet board needs JavaScript.</noscript>
</body>
</html>
`,
);

let gzipped = 0;
for (const file of [script, styles, 'favicon.svg'].map((f) => join(out, 'assets', f)).concat(join(out, 'index.html'))) {
  const gz = gzipSync(readFileSync(file), { level: 9 });
  writeFileSync(`${file}.gz`, gz);
  if (file.endsWith('.js') || file.endsWith('.css') || file.endsWith('.html')) gzipped += gz.length;
}

if (!args.has('--quiet')) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`web: built ${script} and ${styles} (${kb(gzipped)} gzipped with index.html) in ${Math.round(performance.now() - started)} ms`);
}
