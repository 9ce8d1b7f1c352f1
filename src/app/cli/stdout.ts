/**
 * Standard output that cannot be written, handled once for the whole command: a closed pipe
 * (`copylab schema | head -1`, EPIPE) ends the process quietly with the exit code it had, as Unix
 * tools do; any other error (`copylab run > /dev/full`: ENOSPC) is one line on stderr and exit 1.
 */
import { fsErrorWords } from '../../core/util/output-file.js';
import { EXIT_FAILED, EXIT_OK } from './common.js';

let guarded = false;

export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  let handled = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (handled) return;
    handled = true;
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK);
    process.stderr.write(`copylab: cannot write standard output: ${fsErrorWords(err)}\n`);
    process.exit(EXIT_FAILED);
  });
}
