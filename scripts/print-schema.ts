// Prints the SDL to schema.graphql; with --check, fails when the committed file is stale (CI runs it).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../schema/index.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../schema.graphql');
const sdl = `${printSchema(lexicographicSortSchema(schema))}\n`;

if (process.argv.includes('--check')) {
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current !== sdl) {
    console.error('schema.graphql is stale: run `npm run schema:print` and commit it');
    process.exit(1);
  }
  console.log('schema.graphql is current');
} else {
  await writeFile(file, sdl);
  console.log(`wrote ${file}`);
}
