#!/usr/bin/env node
// The copylab command: runs the compiled CLI (npm ci builds it through the prepare script).
import { main } from '../dist/src/app/cli/main.js';

// A closed pipe (`copylab schema | head`) ends the output, not the process with a stack trace.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw err; });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`copylab: internal error: ${err?.stack ?? err}\n`); process.exitCode = 70; },
);
