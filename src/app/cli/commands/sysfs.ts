/** `copylab sysfs ls|cat|write` over the devices of a scenario (default: the default lab's). */
import type { Command } from 'commander';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, fail, openLab, type SetExit } from '../common.js';
import { isGlob, type Sysfs } from '../../../core/sysfs/tree.js';
import { Errno } from '../../../core/util/errno.js';

/**
 * `sysfs cat PATH…`: globs expanded as sh would (a glob matching nothing is an error, as cat of
 * a missing file); one file prints its value, several print `path: value` lines (as `grep . FILES`).
 * Like cat, a path that cannot be read is named on stderr and the others are still printed (exit 1).
 */
function catPaths(sysfs: Sysfs, patterns: readonly string[]): number {
  let code = EXIT_OK;
  const files: string[] = [];
  for (const p of patterns) {
    if (!isGlob(p)) files.push(p);
    else {
      const hits = sysfs.glob(p);
      if (hits.length) files.push(...hits);
      else code = fail(`${p}: No such file or directory (the pattern matches nothing)`, -Errno.ENOENT);
    }
  }
  const named = files.length > 1;
  for (const f of files) {
    const r = sysfs.read(f);
    if (r.res < 0) {
      code = fail(r.message ?? f, r.res);
      continue;
    }
    const value = r.value!.replace(/\n$/, '');
    process.stdout.write(named ? `${f}: ${value}\n` : `${value}\n`);
  }
  return code === EXIT_OK ? EXIT_OK : EXIT_FAILED;
}

const scenarioOption = (c: Command): Command => allowOutsidePathsOption(c.option('-s, --scenario <file>', 'scenario whose devices make up the lab (default: the default lab, see `copylab lab`)'));

export function registerSysfs(program: Command, setExit: SetExit): void {
  const sysfs = program.command('sysfs').description("read and write the lab's sysfs tree (/sys/block/<dev>/queue/…, /sys/class/nvme, /sys/class/scsi_disk)");
  scenarioOption(sysfs.command('ls [path]').description('list a directory (default /sys/block); (rw) marks writable attributes'))
    .option('-R, --recursive', 'list every file below path with its value')
    .action(async (path: string | undefined, opts: { scenario?: string; recursive?: boolean; allowOutsidePaths?: boolean }) => {
      const h = openLab(opts.scenario, opts);
      const lab = h.lab;
      const p = path ?? '/sys/block';
      if (opts.recursive) {
        const files = lab.sysfs.walk(p);
        if (!files.length) setExit(fail(`${p}: No such file or directory`, -2));
        else {
          for (const f of files) process.stdout.write(`${f} = ${lab.sysfs.read(f).value ?? ''}\n`);
          setExit(EXIT_OK);
        }
      } else {
        const r = lab.sysfs.ls(p);
        if (r.res < 0) setExit(fail(r.message ?? p, r.res));
        else {
          for (const e of r.entries!) process.stdout.write(`${e.name}${e.type === 'dir' ? '/' : e.mode === 'rw' ? '  (rw)' : ''}\n`);
          setExit(EXIT_OK);
        }
      }
      await h.release();
    });
  scenarioOption(sysfs.command('cat <path...>'))
    .description("print attributes' values; paths may be globs (quote them: '/sys/block/*/queue/copy_max_bytes'); with more than one file, `path: value` lines")
    .action(async (paths: string[], opts: { scenario?: string; allowOutsidePaths?: boolean }) => {
      const h = openLab(opts.scenario, opts);
      try {
        setExit(catPaths(h.lab.sysfs, paths));
      } finally {
        await h.release();
      }
    });
  scenarioOption(sysfs.command('write <path> <value>'))
    .description('write a value and print what the attribute reads back (outside `copylab shell` the lab lives for this command only)')
    .action(async (path: string, value: string, opts: { scenario?: string; allowOutsidePaths?: boolean }) => {
      const h = openLab(opts.scenario, opts);
      const r = h.lab.sysfs.write(path, value);
      if (r.res < 0) setExit(fail(`write error: ${r.message ?? path}`, r.res));
      else {
        process.stdout.write(`${r.value}\n`);
        setExit(EXIT_OK);
      }
      await h.release();
    });
}
