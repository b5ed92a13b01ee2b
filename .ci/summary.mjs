// Prints vitest's own counts as the one closing line CI reads: "N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

let r;
try {
  r = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch (err) {
  console.error(`no vitest report: ${err.message}`);
  process.exit(1);
}
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
