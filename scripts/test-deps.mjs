#!/usr/bin/env node
// Runs before `npm test`: the peer tests need Debian packages (gcc and libnvme-dev to build the
// libnvme peer, libiscsi-bin for iscsi-test-cu, sg3-utils for sg_vpd/sg_inq/sg_decode_sense, fio for
// fio and its fio_jsonplus_clat2csv (a python3 script that imports six) and fio2gnuplot, blktrace
// for blkparse and btt, redis-server and openssl for the distributed sweep tests, bsdutils for
// script, the pseudo-terminal the lab shell's terminal test types at, librsvg2-bin for
// rsvg-convert, which renders the docs' SVG images).
// Installs what is missing when it can (root with apt-get, as on a fresh Debian machine or in CI);
// otherwise says exactly what to install.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const needs = [
  { pkg: 'gcc', ok: () => has('gcc') },
  { pkg: 'libc6-dev', ok: () => existsSync('/usr/include/stdio.h') },
  { pkg: 'libnvme-dev', ok: () => existsSync('/usr/include/libnvme.h') },
  { pkg: 'libiscsi-bin', ok: () => has('iscsi-test-cu') },
  { pkg: 'sg3-utils', ok: () => has('sg_vpd') && has('sg_inq') && has('sg_decode_sense') },
  { pkg: 'redis-server', ok: () => has('redis-server') },
  { pkg: 'openssl', ok: () => has('openssl') },
  { pkg: 'fio', ok: () => has('fio') && has('fio_jsonplus_clat2csv') && has('fio2gnuplot') },
  { pkg: 'python3-six', ok: () => spawnSync('python3', ['-c', 'import six'], { stdio: 'ignore' }).status === 0 },
  { pkg: 'blktrace', ok: () => has('blkparse') && has('btt') },
  { pkg: 'bsdutils', ok: () => has('script') },
  { pkg: 'librsvg2-bin', ok: () => has('rsvg-convert') },
];
const missing = needs.filter((n) => !n.ok()).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);

const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
if (process.getuid?.() === 0 && has('apt-get')) {
  process.stderr.write(`test dependencies missing (${missing.join(', ')}): installing with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('sh', ['-c', install], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) r = spawnSync('sh', ['-c', `apt-get update && ${install}`], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status === 0) process.exit(0);
}
process.stderr.write(`The test suite needs Debian packages that are missing: ${missing.join(', ')}.\nInstall them as root:\n  ${install}\n`);
process.exit(1);
