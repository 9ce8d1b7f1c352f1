/**
 * The copychunk step (docs/files.md): SMB2's FSCTL_SRV_COPYCHUNK between two files, its chunks
 * as a list, its answer (NTSTATUS and SRV_COPYCHUNK_RESPONSE) checked against expectations.
 */
import { Errno, ErrnoError } from '../../../core/util/errno.js';
import { copychunk, NT_STATUS, type SrvCopychunk } from '../../fs/copychunk.js';
import type { CopyFs } from '../../fs/fs.js';
import { fsOn } from '../../fs/mounts.js';
import { k, type ObjSpec } from '../keys.js';
import type { StepDef, StepOutcome } from '../types.js';

/** Chunks one step may list: past the server's 256, so a scenario can provoke its answer. */
export const COPYCHUNK_STEP_MAX_CHUNKS = 4096;

const STATUS_NAMES = Object.keys(NT_STATUS).map((n) => `STATUS_${n}`);

/** The errno a status stands for in the step's report (res). */
const ERRNO_OF: Readonly<Record<number, number>> = {
  [NT_STATUS.INVALID_PARAMETER]: Errno.EINVAL,
  [NT_STATUS.END_OF_FILE]: Errno.EINVAL,
  [NT_STATUS.ACCESS_DENIED]: Errno.EBADF,
  [NT_STATUS.OBJECT_NAME_NOT_FOUND]: Errno.EBADF,
  [NT_STATUS.FILE_CLOSED]: Errno.EBADF,
  [NT_STATUS.DISK_FULL]: Errno.ENOSPC,
  [NT_STATUS.FILE_IS_A_DIRECTORY]: Errno.EISDIR,
  [NT_STATUS.NOT_SUPPORTED]: Errno.ENOTSUP,
  [NT_STATUS.CANCELLED]: Errno.ECANCELED,
  [NT_STATUS.FILE_TOO_LARGE]: Errno.EFBIG,
};

const CHUNK_SPEC: ObjSpec = {
  description: 'one SRV_COPYCHUNK: length bytes from src in the source file to dst in the target',
  keys: {
    src: k.size('source file offset', { required: true, example: 0 }),
    dst: k.size('target file offset', { required: true, example: 0 }),
    length: k.size('bytes (the server takes 1 byte to 1 MiB)', { required: true, example: '1MiB' }),
  },
};
const EXPECT_SPEC: ObjSpec = {
  description: 'the answer the copy should get (default: STATUS_SUCCESS)',
  keys: {
    status: k.oneOf(STATUS_NAMES, 'the NTSTATUS', { example: 'STATUS_INVALID_PARAMETER' }),
    chunks_written: k.int(0, 2 ** 32 - 1, 'ChunksWritten (the limit on chunks for STATUS_INVALID_PARAMETER)'),
    chunk_bytes_written: k.int(0, 2 ** 32 - 1, 'ChunkBytesWritten (the limit on a chunk for STATUS_INVALID_PARAMETER)'),
    total_bytes_written: k.size('TotalBytesWritten (the limit on a request for STATUS_INVALID_PARAMETER)'),
    requests: k.int(0, 2 ** 32 - 1, 'REQ_OP_COPY requests the file system handed the block layer'),
    commands: k.int(0, 2 ** 32 - 1, 'offloaded copy commands those became on the device'),
    host_bytes: k.size('bytes that crossed host memory'),
  },
};
const SPEC: ObjSpec = {
  description: 'SMB2 FSCTL_SRV_COPYCHUNK: an array of chunks between two files in one call, with the server\'s limits (256 chunks, 1 MiB each, 16 MiB in all)',
  keys: {
    dev: k.dev('the device whose file system holds dst', { required: true, example: '/dev/nullb0' }),
    src_dev: k.dev('the device whose file system holds src', { default: 'dev' }),
    src: k.str('the source file', { required: true, example: '/vm.img' }),
    dst: k.str('the target file (created if missing)', { required: true, example: '/copy.img' }),
    chunks: k.list(k.obj(CHUNK_SPEC), COPYCHUNK_STEP_MAX_CHUNKS, 'the chunks, in order', { required: true, example: [{ src: 0, dst: 0, length: '1MiB' }] }),
    offload: k.oneOf(['auto', 'never'], 'never: no REQ_OP_COPY', { default: 'auto' }),
    reflink: k.oneOf(['auto', 'always', 'never'], 'auto: clone where the file system can', { default: 'auto' }),
    expect: k.obj(EXPECT_SPEC, { example: { status: 'STATUS_SUCCESS', requests: 1 } }),
  },
};

type Want = { status?: string; chunks_written?: number; chunk_bytes_written?: number; total_bytes_written?: number; requests?: number; commands?: number; host_bytes?: number };

export const copychunkStep: StepDef = {
  kind: 'copychunk',
  spec: SPEC,
  parse(body, ctx) {
    body.obj(SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const srcDev = body.key('src_dev').present ? ctx.devPath(body.key('src_dev')) : dev;
    const src = body.key('src').required().str();
    const dst = body.key('dst').required().str();
    const chunks: SrvCopychunk[] = body.key('chunks').required().list(COPYCHUNK_STEP_MAX_CHUNKS).map((c) => {
      c.obj(CHUNK_SPEC);
      return { sourceOffset: c.key('src').required().size(), targetOffset: c.key('dst').required().size(), length: c.key('length').required().size() };
    });
    const offload = body.key('offload').present ? body.key('offload').oneOf<'auto' | 'never'>(['auto', 'never']) : 'auto';
    const reflink = body.key('reflink').present ? body.key('reflink').oneOf<'auto' | 'always' | 'never'>(['auto', 'always', 'never']) : 'auto';
    const want: Want = {};
    const e = body.key('expect');
    if (e.present) {
      e.obj(EXPECT_SPEC);
      if (e.key('status').present) want.status = e.key('status').oneOf(STATUS_NAMES);
      for (const key of ['chunks_written', 'chunk_bytes_written', 'requests', 'commands'] as const) if (e.key(key).present) want[key] = e.key(key).int(0, 2 ** 32 - 1);
      for (const key of ['total_bytes_written', 'host_bytes'] as const) if (e.key(key).present) want[key] = e.key(key).size();
    }
    const target = `${dev}:${dst}`;
    return {
      kind: 'copychunk',
      async run(lab, trace): Promise<StepOutcome> {
        let inFs: CopyFs | undefined;
        let outFs: CopyFs | undefined;
        let fdIn = -1;
        let fdOut = -1;
        try {
          inFs = fsOn(lab, srcDev);
          outFs = fsOn(lab, dev);
          fdIn = inFs.open(src, { read: true });
          fdOut = outFs.open(dst, { write: true, create: true });
          const r = await copychunk({ fs: inFs, fd: fdIn }, { fs: outFs, fd: fdOut }, chunks, { offload, reflink, trace });
          const problems: string[] = [];
          const got: Required<Want> = { status: r.statusName, chunks_written: r.chunksWritten, chunk_bytes_written: r.chunkBytesWritten, total_bytes_written: r.totalBytesWritten, requests: r.requests, commands: r.commands, host_bytes: r.host_bytes };
          if ((want.status ?? 'STATUS_SUCCESS') !== r.statusName) problems.push(`expected ${want.status ?? 'STATUS_SUCCESS'}, got ${r.statusName}${r.message ? ` (${r.message})` : ''}`);
          for (const key of Object.keys(want) as (keyof Want)[]) if (key !== 'status' && want[key] !== got[key]) problems.push(`expected ${key} ${want[key]}, got ${got[key]}`);
          const kinds = new Set(r.parts.map((p) => p.path));
          return {
            target,
            ok: problems.length === 0,
            res: r.status === NT_STATUS.SUCCESS ? r.totalBytesWritten : -(ERRNO_OF[r.status] ?? Errno.EIO),
            bytes: r.totalBytesWritten,
            host_bytes: r.host_bytes,
            ...(kinds.size ? { path: kinds.size > 1 ? 'mixed' : [...kinds][0]! } : {}),
            details: { ...got, parts: r.parts },
            ...(problems.length ? { message: problems.join('; ') } : r.message ? { message: r.message } : {}),
          };
        } catch (err) {
          if (!(err instanceof ErrnoError)) throw err;
          return { target, ok: false, res: err.errno, message: err.message };
        } finally {
          if (fdIn >= 0) inFs!.close(fdIn);
          if (fdOut >= 0) outFs!.close(fdOut);
        }
      },
    };
  },
};
