#!/usr/bin/env node
// The copylab command: runs the compiled CLI (npm ci builds it through the prepare script).
// main() handles standard output errors (a closed pipe, a full disk) itself.
import { main } from '../dist/src/app/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`copylab: internal error: ${err?.stack ?? err}\n`); process.exitCode = 70; },
);
