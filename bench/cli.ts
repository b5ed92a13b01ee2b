// How a benchmark ends when run as a command: exit 0 once it finishes, 1 with the error printed.
// (Servers, pools and child processes a benchmark leaves behind must not keep the process alive.)
import { pathToFileURL } from 'node:url';

export function exitWhenDone(work: Promise<unknown>): void {
  work.then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** Runs `run(argv)` when the module at `moduleUrl` is the script node was started with. */
export function runIfMain(moduleUrl: string, run: (argv: string[]) => Promise<void>): void {
  if (moduleUrl === pathToFileURL(process.argv[1] ?? '').href) exitWhenDone(run(process.argv.slice(2)));
}
