/**
 * File steps (docs/files.md): `mkfs` makes a file system on a device, `file` writes, verifies,
 * truncates, syncs or unlinks a file through its page cache, `copy_file_range` copies between
 * files (offload or splice, as the file system decides).
 */
import { fillPattern, findPatternMismatch } from '../../../core/util/pattern.js';
import { Errno, ErrnoError } from '../../../core/util/errno.js';
import { copyFileRange } from '../../fs/copy-file-range.js';
import { FS_DEFAULT_CACHE_BYTES, type CopyFs } from '../../fs/fs.js';
import { format, fsOn, mkfs, mount } from '../../fs/mounts.js';
import { errnoOk } from '../expect.js';
import { k, type ObjSpec } from '../keys.js';
import type { StepDef, StepOutcome } from '../types.js';

/** Bytes one file step writes or verifies at most (a limit on everything). */
export const FILE_STEP_MAX_BYTES = 16 * 1024 ** 3;
const CHUNK = 4 << 20;

const errnoOf = (err: unknown): number => {
  if (err instanceof ErrnoError) return err.errno;
  throw err;
};

const MKFS_SPEC: ObjSpec = {
  description: 'makes an empty file system (extents, a page cache, copy_file_range) on dev',
  keys: {
    dev: k.dev('the block device', { required: true, example: '/dev/nullb0' }),
    cache: k.size('page cache bytes', { default: FS_DEFAULT_CACHE_BYTES }),
    dirty: k.size('dirty bytes past which writers wait for writeback (default: half the cache)'),
    reflink: k.bool('files may share blocks: copy_file_range clones (extents shared, copy-on-write), as mkfs.xfs -m reflink=1', { default: false }),
    metadata: k.oneOf(['memory', 'device'], 'where the metadata lives: memory (gone with the lab) or device (committed at fsync and sync behind a superblock flip; the mount step reads it back)', { default: 'memory' }),
  },
};

export const mkfsStep: StepDef = {
  kind: 'mkfs',
  spec: MKFS_SPEC,
  parse(body, ctx) {
    body.obj(MKFS_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const cacheBytes = body.key('cache').present ? body.key('cache').size() : undefined;
    const dirtyBytes = body.key('dirty').present ? body.key('dirty').size() : undefined;
    const reflink = body.key('reflink').present ? body.key('reflink').bool() : false;
    const metadata = body.key('metadata').present ? body.key('metadata').oneOf<'memory' | 'device'>(['memory', 'device']) : 'memory';
    return {
      kind: 'mkfs',
      async run(lab, trace) {
        try {
          const o = { ...(cacheBytes !== undefined ? { cacheBytes } : {}), ...(dirtyBytes !== undefined ? { dirtyBytes } : {}), reflink };
          const fs = metadata === 'device' ? await format(lab, dev, o, trace) : mkfs(lab, dev, o);
          return { target: dev, ok: true, res: 0, details: { blocks: fs.allocator.blocks, block_size: fs.blockSize, reflink, metadata } };
        } catch (err) {
          const res = errnoOf(err);
          return { target: dev, ok: false, res, message: (err as Error).message };
        }
      },
    };
  },
};

const MOUNT_EXPECT: ObjSpec = {
  description: 'how the mount should go (default: success)',
  keys: {
    errno: k.errno('the errno the mount must fail with', { example: 'EUCLEAN' }),
    files: k.int(0, 65536, 'files the mounted file system holds'),
  },
};
const MOUNT_SPEC: ObjSpec = {
  description: "mounts the file system whose metadata is on dev (mkfs with metadata: device) as its last commit left it, in place of the one in the lab's memory: what no fsync or sync committed is gone, as after a crash",
  keys: {
    dev: k.dev('the block device', { required: true, example: '/dev/nullb0' }),
    cache: k.size('page cache bytes', { default: FS_DEFAULT_CACHE_BYTES }),
    expect: k.obj(MOUNT_EXPECT),
  },
};

export const mountStep: StepDef = {
  kind: 'mount',
  spec: MOUNT_SPEC,
  parse(body, ctx) {
    body.obj(MOUNT_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const cacheBytes = body.key('cache').present ? body.key('cache').size() : undefined;
    const e = body.key('expect');
    let wantErrno: number | undefined;
    let wantFiles: number | undefined;
    if (e.present) {
      e.obj(MOUNT_EXPECT);
      if (e.key('errno').present) wantErrno = e.key('errno').errno();
      if (e.key('files').present) wantFiles = e.key('files').int(0, 65536);
    }
    return {
      kind: 'mount',
      async run(lab, trace): Promise<StepOutcome> {
        let res = 0;
        let message: string | undefined;
        let files: number | undefined;
        let generation: number | undefined;
        try {
          const fs = await mount(lab, dev, cacheBytes !== undefined ? { cacheBytes } : {}, trace);
          files = fs.list().length;
          generation = fs.generation;
        } catch (err) {
          res = errnoOf(err);
          message = (err as Error).message;
        }
        const check = errnoOk(res, wantErrno);
        const details = files !== undefined ? { files, generation } : undefined;
        if (check.ok && wantFiles !== undefined && files !== wantFiles) {
          return { target: dev, ok: false, res, message: `${files} files mounted, expected ${wantFiles}`, ...(details ? { details } : {}) };
        }
        return { target: dev, ok: check.ok, res, ...(details ? { details } : {}), ...(check.ok ? (message ? { message } : {}) : { message: message ? `${check.message}: ${message}` : check.message! }) };
      },
    };
  },
};

const FILE_OPS = ['write', 'verify', 'truncate', 'fallocate', 'fsync', 'unlink', 'sync'] as const;
type FileOp = (typeof FILE_OPS)[number];

const FILE_EXPECT: ObjSpec = {
  description: 'how the file step should go (default: success)',
  keys: { errno: k.errno('the errno the step must fail with', { example: 'ENOENT' }) },
};
const FILE_SPEC: ObjSpec = {
  description: 'a file operation through the page cache: write (seeded pattern), verify (against the pattern), truncate, fallocate (blocks zeroed on the device), fsync, unlink, sync',
  keys: {
    dev: k.dev('the device whose file system holds the file', { required: true, example: '/dev/nullb0' }),
    op: k.oneOf(FILE_OPS, 'the operation', { required: true, example: 'write' }),
    path: k.str('the file ("/name"; not needed by sync)', { example: '/vm.img' }),
    offset: k.size('byte offset in the file', { default: 0 }),
    length: k.size('bytes (write, verify, fallocate; the new size for truncate)', { example: '4MiB' }),
    seed: k.int(0, 2 ** 32 - 1, 'pattern seed (write, verify)', { default: 1 }),
    pattern_offset: k.size('verify: where in the pattern the range starts (default: offset)'),
    expect: k.obj(FILE_EXPECT),
  },
};

export const fileStep: StepDef = {
  kind: 'file',
  spec: FILE_SPEC,
  parse(body, ctx) {
    body.obj(FILE_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const op = body.key('op').required().oneOf<FileOp>(FILE_OPS);
    const path = body.key('path').present ? body.key('path').str() : undefined;
    if (op !== 'sync' && path === undefined) body.key('path').required();
    const offset = body.key('offset').present ? body.key('offset').size() : 0;
    const length = body.key('length').present ? body.key('length').size() : undefined;
    if ((op === 'write' || op === 'verify' || op === 'truncate' || op === 'fallocate') && length === undefined) body.key('length').required();
    if (length !== undefined && op !== 'truncate' && op !== 'fallocate' && length > FILE_STEP_MAX_BYTES) body.key('length').fail(`at most ${FILE_STEP_MAX_BYTES} bytes per file step`);
    const seed = body.key('seed').present ? body.key('seed').int(0, 2 ** 32 - 1) : 1;
    const patternOffset = body.key('pattern_offset').present ? body.key('pattern_offset').size() : offset;
    const e = body.key('expect');
    let wantErrno: number | undefined;
    if (e.present) {
      e.obj(FILE_EXPECT);
      if (e.key('errno').present) wantErrno = e.key('errno').errno();
    }
    const target = `${dev}:${path ?? ''}`;
    return {
      kind: 'file',
      async run(lab, trace): Promise<StepOutcome> {
        let res = 0;
        let message: string | undefined;
        try {
          const fs = fsOn(lab, dev);
          res = await runFileOp(fs, op, path ?? '/', offset, length ?? 0, seed, patternOffset, trace);
        } catch (err) {
          res = errnoOf(err);
          message = (err as Error).message;
        }
        const check = errnoOk(res, wantErrno);
        return { target, ok: check.ok, res, ...(check.ok ? (message ? { message } : {}) : { message: message ? `${check.message}: ${message}` : check.message! }) };
      },
    };
  },
};

async function runFileOp(fs: CopyFs, op: FileOp, path: string, offset: number, length: number, seed: number, patternOffset: number, trace: Parameters<CopyFs['fsync']>[1]): Promise<number> {
  switch (op) {
    case 'sync':
      await fs.sync(trace);
      return 0;
    case 'unlink':
      fs.unlink(path);
      return 0;
    case 'truncate':
      await fs.truncate(path, length, trace);
      return 0;
    case 'fsync':
      await fs.fsync(fs.lookup(path), trace);
      return 0;
    case 'fallocate': {
      const fd = fs.open(path, { write: true, create: true });
      try {
        await fs.fallocate(fs.fd(fd).inode, offset, length, trace);
        return 0;
      } finally {
        fs.close(fd);
      }
    }
    case 'write': {
      const fd = fs.open(path, { write: true, create: true });
      try {
        const inode = fs.fd(fd).inode;
        const buf = new Uint8Array(Math.min(CHUNK, length));
        let done = 0;
        while (done < length) {
          const n = Math.min(buf.length, length - done);
          fillPattern(buf.subarray(0, n), seed, patternOffset + done);
          const put = await fs.writeAt(inode, offset + done, buf.subarray(0, n), trace);
          done += put;
          if (put < n) throw new ErrnoError(Errno.ENOSPC, `${path}: no space left after ${done} bytes`);
        }
        return done;
      } finally {
        fs.close(fd);
      }
    }
    case 'verify': {
      const inode = fs.lookup(path);
      const buf = new Uint8Array(Math.min(CHUNK, length));
      let done = 0;
      while (done < length) {
        const n = Math.min(buf.length, length - done);
        const got = await fs.readAt(inode, offset + done, buf.subarray(0, n), trace);
        if (got < n) throw new ErrnoError(Errno.EIO, `${path}: ${offset + done + got} is past the end of the file (size ${inode.size})`);
        const bad = findPatternMismatch(buf.subarray(0, n), seed, patternOffset + done);
        if (bad >= 0) throw new ErrnoError(Errno.EIO, `${path}: byte ${offset + done + bad} differs from the pattern`);
        done += n;
      }
      return done;
    }
  }
}

const CFR_EXPECT: ObjSpec = {
  description: 'how the copy should go (default: success)',
  keys: {
    path: k.oneOf(['reflink', 'offload', 'splice', 'mixed', 'none'], 'reflink (extents shared), offload (whole blocks by REQ_OP_COPY), splice (through the page cache), mixed or none'),
    bytes: k.size('bytes copied'),
    host_bytes: k.size('bytes that crossed host memory'),
    block_path: k.oneOf(['offload', 'emulated', 'mixed'], "what the block layer did with the offloaded parts: offload (the device copied), emulated (read and written by the host: another copy domain, a dm-crypt IV) or mixed"),
    reason: k.str('words the parts\' reasons must contain (why each path was taken)', { example: 'not in one copy domain' }),
    errno: k.errno('the errno the copy must fail with', { example: 'EINVAL' }),
  },
};
const CFR_SPEC: ObjSpec = {
  description: 'copy_file_range(2) between two files: whole blocks cloned (reflink file systems) or offloaded as REQ_OP_COPY after writeback, the rest spliced through the page cache',
  keys: {
    dev: k.dev('the device whose file system holds dst', { required: true, example: '/dev/nullb0' }),
    src_dev: k.dev('the device whose file system holds src', { default: 'dev' }),
    src: k.str('the source file', { required: true, example: '/vm.img' }),
    dst: k.str('the destination file (created if missing)', { required: true, example: '/clone.img' }),
    src_offset: k.size('source byte offset', { default: 0 }),
    dst_offset: k.size('destination byte offset', { default: 0 }),
    length: k.size('bytes', { required: true, example: '4MiB' }),
    offload: k.oneOf(['auto', 'never'], 'never: no REQ_OP_COPY', { default: 'auto' }),
    reflink: k.oneOf(['auto', 'always', 'never'], 'auto: clone where the file system can; always: clone or fail (cp --reflink=always); never', { default: 'auto' }),
    expect: k.obj(CFR_EXPECT, { example: { path: 'offload', host_bytes: 0 } }),
  },
};

export const copyFileRangeStep: StepDef = {
  kind: 'copy_file_range',
  spec: CFR_SPEC,
  parse(body, ctx) {
    body.obj(CFR_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const srcDev = body.key('src_dev').present ? ctx.devPath(body.key('src_dev')) : dev;
    const src = body.key('src').required().str();
    const dst = body.key('dst').required().str();
    const srcOffset = body.key('src_offset').present ? body.key('src_offset').size() : 0;
    const dstOffset = body.key('dst_offset').present ? body.key('dst_offset').size() : 0;
    const length = body.key('length').required().size();
    const offload = body.key('offload').present ? body.key('offload').oneOf<'auto' | 'never'>(['auto', 'never']) : 'auto';
    const reflink = body.key('reflink').present ? body.key('reflink').oneOf<'auto' | 'always' | 'never'>(['auto', 'always', 'never']) : 'auto';
    const e = body.key('expect');
    const want: { path?: string; bytes?: number; host_bytes?: number; block_path?: string; reason?: string; errno?: number } = {};
    if (e.present) {
      e.obj(CFR_EXPECT);
      if (e.key('path').present) want.path = e.key('path').oneOf(['reflink', 'offload', 'splice', 'mixed', 'none']);
      if (e.key('bytes').present) want.bytes = e.key('bytes').size();
      if (e.key('host_bytes').present) want.host_bytes = e.key('host_bytes').size();
      if (e.key('block_path').present) want.block_path = e.key('block_path').oneOf(['offload', 'emulated', 'mixed']);
      if (e.key('reason').present) want.reason = e.key('reason').str();
      if (e.key('errno').present) want.errno = e.key('errno').errno();
    }
    const target = `${dev}:${dst}`;
    return {
      kind: 'copy_file_range',
      async run(lab): Promise<StepOutcome> {
        let fdIn = -1;
        let fdOut = -1;
        let inFs: CopyFs | undefined;
        let outFs: CopyFs | undefined;
        try {
          inFs = fsOn(lab, srcDev);
          outFs = fsOn(lab, dev);
          fdIn = inFs.open(src, { read: true });
          fdOut = outFs.open(dst, { write: true, create: true });
          const r = await copyFileRange({ fs: inFs, fd: fdIn }, srcOffset, { fs: outFs, fd: fdOut }, dstOffset, length, 0, { offload, reflink });
          const problems: string[] = [];
          const base = errnoOk(r.bytes, want.errno);
          if (!base.ok) problems.push(base.message!);
          if (want.path !== undefined && r.path !== want.path) problems.push(`expected path ${want.path}, got ${r.path}`);
          if (want.bytes !== undefined && r.bytes !== want.bytes) problems.push(`expected ${want.bytes} bytes, got ${r.bytes}`);
          if (want.host_bytes !== undefined && r.host_bytes !== want.host_bytes) problems.push(`expected ${want.host_bytes} host bytes, got ${r.host_bytes}`);
          const reason = r.parts.map((p) => p.reason).filter((x): x is string => x !== undefined).join('; ') || undefined;
          const blockPaths = new Set(r.parts.flatMap((p) => (p.block_path ? [p.block_path] : [])));
          const blockPath = blockPaths.size === 0 ? 'none' : blockPaths.size === 1 ? [...blockPaths][0]! : 'mixed';
          if (want.block_path !== undefined && blockPath !== want.block_path) problems.push(`expected block path ${want.block_path}, got ${blockPath}`);
          if (want.reason !== undefined && !(reason ?? '').includes(want.reason)) problems.push(`expected a reason saying "${want.reason}", got "${reason ?? ''}"`);
          return {
            target,
            ok: problems.length === 0,
            res: r.bytes,
            path: r.path,
            bytes: r.bytes,
            host_bytes: r.host_bytes,
            ...(reason ? { reason } : {}),
            details: { parts: r.parts },
            ...(problems.length ? { message: problems.join('; ') } : {}),
          };
        } catch (err) {
          const res = errnoOf(err);
          const check = errnoOk(res, want.errno);
          return { target, ok: check.ok, res, message: check.ok ? (err as Error).message : `${check.message}: ${(err as Error).message}` };
        } finally {
          if (fdIn >= 0) inFs!.close(fdIn);
          if (fdOut >= 0) outFs!.close(fdOut);
        }
      },
    };
  },
};
