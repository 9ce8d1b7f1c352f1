/**
 * `copylab fs mkfs|mount|ls|stat|cp` on a device of a scenario (docs/files.md): mkfs.copyfs, ls -ls,
 * stat with filefrag's extents, and cp with coreutils' --reflink and an --offload switch. With
 * --scenario the scenario's steps run first (they make the file system and its files), then the
 * command; inside `copylab shell` the shell's lab is used as it is (no steps run).
 */
import type { Command } from 'commander';
import { copyFileRange, type CopyFileRangeResult } from '../../fs/copy-file-range.js';
import { FS_DEFAULT_CACHE_BYTES, type CopyFs } from '../../fs/fs.js';
import { format, fsOn, mkfs, mount } from '../../fs/mounts.js';
import { runStep } from '../../scenario/run.js';
import type { Lab } from '../../lab.js';
import { ErrnoError } from '../../../core/util/errno.js';
import { formatSize, parseSize } from '../../../core/util/size.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, inShell, notInLab, openLab, UsageError, type SetExit } from '../common.js';

interface FsOpts {
  scenario?: string;
  dev?: string;
  json?: boolean;
  allowOutsidePaths?: boolean;
}

const REFLINK_WHEN = ['auto', 'always', 'never'] as const;
const OFFLOAD_WHEN = ['auto', 'never'] as const;

function out(opts: FsOpts, json: unknown, text: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

/**
 * Runs `fn` on the lab of --scenario (its steps run first) or the shell's, with --dev checked.
 * Usage problems exit 2, a failed step or operation 1.
 */
function action<O extends FsOpts, A extends unknown[]>(setExit: SetExit, fn: (lab: Lab, dev: string, opts: O, ...args: A) => Promise<number>) {
  return async (...all: unknown[]): Promise<void> => {
    const cmd = all[all.length - 1] as Command;
    const opts = cmd.opts<O>();
    const args = all.slice(0, -2) as A;
    let h: ReturnType<typeof openLab>;
    try {
      h = openLab(opts.scenario, opts);
    } catch (err) {
      process.stderr.write(`copylab: ${(err as Error).message}\n`);
      return setExit(EXIT_USAGE);
    }
    try {
      if (!opts.dev) throw new UsageError('--dev names the device whose file system to use (/dev/nullb0, /dev/nvme0n1, /dev/sda, /dev/mapper/x)');
      if (!h.lab.findDevice(opts.dev)) throw new UsageError(notInLab(opts.dev, h.lab, 'block device', () => true));
      if (opts.scenario !== undefined && !inShell()) {
        for (const [i, step] of h.scenario.steps.entries()) {
          const r = await runStep(h.lab, step, i);
          if (!r.ok) {
            process.stderr.write(`copylab fs: step ${r.step} (${r.kind}) of ${opts.scenario} failed: ${r.message ?? r.errno}\n`);
            return setExit(EXIT_FAILED);
          }
        }
      }
      setExit(await fn(h.lab, opts.dev, opts, ...args));
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`copylab fs: ${err.message}\n`);
        setExit(EXIT_USAGE);
      } else if (err instanceof ErrnoError) setExit(fail(err.message.replace(/^E[A-Z0-9]+: /, ''), err.errno));
      else throw err;
    } finally {
      await h.release();
    }
  };
}

function cacheOption(cache: string | undefined): number {
  if (cache === undefined) return FS_DEFAULT_CACHE_BYTES;
  const n = parseSize(cache);
  if (n === undefined || n < 16 * 1024) throw new UsageError(`--cache: ${cache} is not a size of at least 16KiB (write 64MiB, 1GiB…)`);
  return n;
}

async function mkfsCommand(lab: Lab, dev: string, opts: FsOpts & { reflink?: boolean; cache?: string; metadata?: string }): Promise<number> {
  const cacheBytes = cacheOption(opts.cache);
  const metadata = opts.metadata ?? 'memory';
  if (metadata !== 'memory' && metadata !== 'device') throw new UsageError(`--metadata: ${metadata} is not memory or device`);
  const o = { reflink: opts.reflink === true, cacheBytes };
  const fs = metadata === 'device' ? await format(lab, dev, o) : mkfs(lab, dev, o);
  const j = { dev, blocks: fs.allocator.blocks, block_size: fs.blockSize, reflink: fs.reflink, cache_bytes: cacheBytes, metadata, ...(fs.layout ? { metadata_blocks: fs.layout.dataStart } : {}) };
  out(opts, j, `mkfs.copyfs: ${dev}: ${j.blocks} blocks of ${j.block_size} bytes, reflink=${fs.reflink ? 1 : 0}, page cache ${formatSize(cacheBytes)}, metadata on the ${metadata === 'device' ? `device (${fs.layout!.dataStart} blocks)` : 'lab\'s memory'}`);
  return EXIT_OK;
}

async function mountCommand(lab: Lab, dev: string, opts: FsOpts & { cache?: string }): Promise<number> {
  const fs = await mount(lab, dev, { cacheBytes: cacheOption(opts.cache) });
  const j = { dev, generation: fs.generation, files: fs.list().length, blocks: fs.allocator.blocks, free_blocks: fs.allocator.freeBlocks, reflink: fs.reflink };
  out(opts, j, `mount.copyfs: ${dev}: generation ${j.generation}, ${j.files} files, ${j.free_blocks} of ${j.blocks} blocks free, reflink=${fs.reflink ? 1 : 0}`);
  return EXIT_OK;
}

/** Blocks of a file that another file maps too. */
function sharedBlocksOf(fs: CopyFs, extents: readonly { dev: number; count: number }[]): number {
  let n = 0;
  for (const e of extents) {
    for (let k = 0; k < e.count; ) {
      const r = fs.refcounts.runAt(e.dev + k, e.count - k);
      if (r.shared) n += r.count;
      k += r.count;
    }
  }
  return n;
}

function lsCommand(lab: Lab, dev: string, opts: FsOpts): Promise<number> {
  const fs = fsOn(lab, dev);
  const files = fs.list().sort((a, b) => a.name.localeCompare(b.name)).map((f) => ({ ...f, shared: sharedBlocksOf(fs, fs.stat(f.name).extents) }));
  const text = [`${'SIZE'.padStart(14)} ${'BLOCKS'.padStart(10)} ${'EXTENTS'.padStart(8)} ${'SHARED'.padStart(10)}  NAME`, ...files.map((f) => `${String(f.size).padStart(14)} ${String(f.blocks).padStart(10)} ${String(f.extents).padStart(8)} ${String(f.shared).padStart(10)}  /${f.name}`)];
  text.push(`total ${files.length} files; ${fs.allocator.freeBlocks} of ${fs.allocator.blocks} blocks free`);
  out(opts, { dev, files, free_blocks: fs.allocator.freeBlocks, blocks: fs.allocator.blocks }, text.join('\n'));
  return Promise.resolve(EXIT_OK);
}

function statCommand(lab: Lab, dev: string, opts: FsOpts, path: string): Promise<number> {
  const fs = fsOn(lab, dev);
  const st = fs.stat(path);
  const extents = st.extents.map((e) => ({ ...e, shared: sharedBlocksOf(fs, [e]) }));
  const lines = [
    `  File: ${path}`,
    `  Size: ${st.size}\tBlocks: ${st.blocks}\tIO Block: ${fs.blockSize}\t${st.kind === 'dir' ? 'directory' : 'regular file'}`,
    `Device: ${dev}\tInode: ${st.ino}\tExtents: ${extents.length}`,
  ];
  if (extents.length) {
    lines.push(' ext:     logical_offset:        physical_offset: length:   flags:');
    extents.forEach((e, i) => lines.push(`${String(i).padStart(4)}: ${`${e.file}..${e.file + e.count - 1}`.padStart(20)}: ${`${e.dev}..${e.dev + e.count - 1}`.padStart(22)}: ${String(e.count).padStart(7)}: ${e.shared === e.count ? 'shared' : e.shared ? `${e.shared} shared` : ''}`));
  }
  out(opts, { path, ...st, extents }, lines.join('\n'));
  return Promise.resolve(EXIT_OK);
}

/** cp's words for a clone --reflink=always could not make. */
async function cloneOrCopy<T>(src: string, dst: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ErrnoError && /^E[A-Z]+: reflink: /.test(err.message)) throw new ErrnoError(-err.errno, `cp: failed to clone '${dst}' from '${src}': ${err.message.replace(/^E[A-Z]+: reflink: /, '')}`);
    throw err;
  }
}

async function cpCommand(lab: Lab, dev: string, opts: FsOpts & { srcDev?: string; reflink?: string; offload?: string }, src: string, dst: string): Promise<number> {
  const reflink = opts.reflink ?? 'auto';
  if (!(REFLINK_WHEN as readonly unknown[]).includes(reflink)) throw new UsageError(`--reflink: ${String(reflink)} is not one of ${REFLINK_WHEN.join(', ')}`);
  const offload = opts.offload ?? 'auto';
  if (!(OFFLOAD_WHEN as readonly string[]).includes(offload)) throw new UsageError(`--offload: ${offload} is not one of ${OFFLOAD_WHEN.join(', ')}`);
  const srcDev = opts.srcDev ?? dev;
  if (!lab.findDevice(srcDev)) throw new UsageError(notInLab(srcDev, lab, 'block device', () => true));
  const fsIn = fsOn(lab, srcDev);
  const fsOut = fsOn(lab, dev);
  const fdIn = fsIn.open(src, { read: true });
  let fdOut = -1;
  try {
    if (fsIn.fd(fdIn).inode.kind === 'dir') throw new UsageError(`${src}: is a directory (cp copies files)`);
    fdOut = fsOut.open(dst, { write: true, create: true, truncate: true });
    const size = fsIn.fd(fdIn).inode.size;
    const t0 = lab.clock.now();
    const results: CopyFileRangeResult[] = [];
    let done = 0;
    // As cp: copy_file_range until the source is done or a call copies nothing.
    while (done < size) {
      const r = await cloneOrCopy(src, dst, () => copyFileRange({ fs: fsIn, fd: fdIn }, done, { fs: fsOut, fd: fdOut }, done, size - done, 0, { reflink: reflink as (typeof REFLINK_WHEN)[number], offload: offload as (typeof OFFLOAD_WHEN)[number] }));
      results.push(r);
      done += r.bytes;
      if (r.bytes === 0 || r.errno !== undefined) break;
    }
    // Then fsync, so the modeled time covers the bytes reaching the device on every path (spliced bytes sit in the page cache until then).
    await fsOut.fsync(fsOut.fd(fdOut).inode);
    const modeledUs = (lab.clock.now() - t0) / 1000;
    const parts = results.flatMap((r) => r.parts);
    const paths = new Set(parts.map((p) => p.path));
    const path = paths.size === 0 ? 'none' : paths.size > 1 ? 'mixed' : [...paths][0]!;
    const hostBytes = results.reduce((n, r) => n + r.host_bytes, 0);
    const requests = results.reduce((n, r) => n + r.requests, 0);
    const commands = results.reduce((n, r) => n + r.commands, 0);
    const stopped = results.find((r) => r.errno !== undefined);
    const j = { src: `${srcDev}:${src}`, dst: `${dev}:${dst}`, bytes: done, size, path, host_bytes: hostBytes, requests, commands, modeled_us: modeledUs, parts, ...(stopped ? { errno: stopped.errno, message: stopped.message } : {}) };
    const lines = [`'${src}' -> '${dst}': ${done} bytes by ${path}, host bytes ${hostBytes}, modeled ${(modeledUs / 1000).toFixed(3)} ms (with fsync)`];
    for (const p of parts) lines.push(`  ${p.path.padEnd(8)} ${p.src_offset}+${p.bytes}  ${p.reason}${p.block_path ? ` (block layer: ${p.block_path})` : ''}`);
    if (requests) lines.push(`  REQ_OP_COPY requests ${requests}, offloaded commands ${commands}`);
    out(opts, j, lines.join('\n'));
    if (done < size) return fail(`cp: '${src}' -> '${dst}': ${done} of ${size} bytes copied${stopped?.message ? `: ${stopped.message}` : ''}`, stopped?.errno ?? -5);
    return EXIT_OK;
  } finally {
    fsIn.close(fdIn);
    if (fdOut >= 0) fsOut.close(fdOut);
  }
}

/** coreutils cp: `--reflink` alone is `--reflink=always` (its value is only ever given with `=`). */
export function rewriteFsArgv(argv: readonly string[]): string[] {
  if (argv[0] !== 'fs' || argv[1] !== 'cp') return [...argv];
  return argv.map((a, i) => (i > 1 && a === '--reflink' ? '--reflink=always' : a));
}

export function registerFs(program: Command, setExit: SetExit): void {
  const fs = program.command('fs').description("copylab's file system on a device of --scenario (docs/files.md): mkfs, ls, stat, cp (copy_file_range: reflink, offload, splice)");
  const common = (c: Command): Command =>
    allowOutsidePathsOption(c.option('-s, --scenario <file>', "scenario whose devices make up the lab; its steps run first (they make the file system and its files); default: the default lab"))
      .option('--dev <path>', 'the device whose file system to use (/dev/nullb0, /dev/nvme0n1, /dev/sda, /dev/mapper/x)')
      .option('--json', 'print JSON');
  common(fs.command('mkfs').description('make an empty file system on --dev (mkfs.copyfs)'))
    .option('--reflink', 'files may share blocks (cp --reflink, copy_file_range clones)')
    .option('--cache <bytes>', 'page cache size', '64MiB')
    .option('--metadata <where>', "memory (gone with the lab) or device (committed at fsync and sync; fs mount reads it back)", 'memory')
    .action(action(setExit, mkfsCommand));
  common(fs.command('mount').description("mount the file system whose metadata is on --dev as its last commit left it (what nothing committed is gone, as after a crash)"))
    .option('--cache <bytes>', 'page cache size', '64MiB')
    .action(action(setExit, mountCommand));
  common(fs.command('ls').description('list the files: size, blocks, extents, blocks shared with other files')).action(action(setExit, lsCommand));
  common(fs.command('stat <path>').description("a file's size, inode and extents (filefrag -v's columns, shared ones flagged)")).action(action(setExit, statCommand));
  common(fs.command('cp <src> <dst>').description("copy a file as coreutils cp does, by copy_file_range: reflink, then REQ_OP_COPY offload, then splice; says which path each part took and why"))
    .option('--src-dev <path>', "the device whose file system holds src (default: --dev)")
    .option('--reflink <when>', "auto: clone where the file system can; always (or --reflink alone): clone or fail; never", 'auto')
    .option('--offload <when>', 'auto: REQ_OP_COPY where whole blocks allow; never: splice through the page cache', 'auto')
    .action(action(setExit, cpCommand));
}
