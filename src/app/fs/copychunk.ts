/**
 * SMB2 server-side copy (FSCTL_SRV_COPYCHUNK, MS-SMB2 3.3.5.15.6) on copylab's file system
 * (docs/files.md): one call with an array of (source offset, target offset, length) chunks, as
 * Samba receives it from a Windows client, checked against the server's limits and carried out
 * by the file system's copy (file-copy.ts), consecutive whole-block chunks in as few REQ_OP_COPY
 * requests as the lab's request limits allow.
 *
 * Checks in the spec's order, all before any byte moves: the source open (the resume key) and
 * the target open; the limits (STATUS_INVALID_PARAMETER, with the limits in the response so the
 * client can reissue the request, 3.3.5.15.6.2 and 2.2.32.1); every chunk inside the source
 * (STATUS_END_OF_FILE, the spec's SHOULD; Windows answers STATUS_INVALID_VIEW_SIZE). Then the
 * chunks run in order; a failure part way answers its status with the chunks written, the bytes
 * of the partial chunk and the total (3.3.5.15.6.1).
 */
import type { Trace } from '../../core/block/trace.js';
import { Errno, ErrnoError } from '../../core/util/errno.js';
import { le32, le64, putLe32 } from '../../core/util/bytes.js';
import { FS_LIMITS } from './fs.js';
import type { FileRef } from './copy-file-range.js';
import { copySegments, type FileCopyControl, type FileCopyOptions, type FileCopyPart } from './file-copy.js';

/**
 * The server's limits (MS-SMB2 3.3.3: ServerSideCopyMaxNumberofChunks, ServerSideCopyMaxChunkSize,
 * ServerSideCopyMaxDataSize): Windows' and Samba's values; the Linux SMB client starts from the
 * same three until a server answers with others.
 */
export const SMB2_COPYCHUNK_LIMITS = { maxChunks: 256, maxChunkSize: 1 << 20, maxDataSize: 16 << 20 } as const;
export type CopychunkLimits = { readonly maxChunks: number; readonly maxChunkSize: number; readonly maxDataSize: number };

/** NTSTATUS values a COPYCHUNK answers with (MS-ERREF 2.3.1). */
export const NT_STATUS = {
  SUCCESS: 0x00000000,
  INVALID_PARAMETER: 0xc000000d,
  END_OF_FILE: 0xc0000011,
  ACCESS_DENIED: 0xc0000022,
  OBJECT_NAME_NOT_FOUND: 0xc0000034,
  DISK_FULL: 0xc000007f,
  FILE_IS_A_DIRECTORY: 0xc00000ba,
  NOT_SUPPORTED: 0xc00000bb,
  UNEXPECTED_IO_ERROR: 0xc00000e9,
  CANCELLED: 0xc0000120,
  FILE_CLOSED: 0xc0000128,
  FILE_TOO_LARGE: 0xc0000904,
} as const;
export type NtStatusName = keyof typeof NT_STATUS;

export function ntStatusName(status: number): string {
  const name = (Object.keys(NT_STATUS) as NtStatusName[]).find((k) => NT_STATUS[k] === status);
  return name ? `STATUS_${name}` : `0x${status.toString(16).padStart(8, '0')}`;
}

/** One SRV_COPYCHUNK (MS-SMB2 2.2.31.1.1). */
export interface SrvCopychunk {
  readonly sourceOffset: number;
  readonly targetOffset: number;
  readonly length: number;
}

/** SRV_COPYCHUNK_COPY (2.2.31.1): SourceKey (24 bytes), ChunkCount, Reserved, then 24-byte chunks. */
export const SRV_COPYCHUNK_COPY = { SOURCE_KEY: 0, SOURCE_KEY_LEN: 24, CHUNK_COUNT: 24, CHUNKS: 32, CHUNK_SIZE: 24 } as const;
/** SRV_COPYCHUNK_RESPONSE (2.2.32.1): ChunksWritten, ChunkBytesWritten, TotalBytesWritten. */
export const SRV_COPYCHUNK_RESPONSE_SIZE = 12;

export interface CopychunkResponse {
  readonly status: number;
  /** STATUS_INVALID_PARAMETER: the server's limits; otherwise what was written (2.2.32.1). */
  readonly chunksWritten: number;
  readonly chunkBytesWritten: number;
  readonly totalBytesWritten: number;
}

export interface CopychunkResult extends CopychunkResponse {
  readonly statusName: string;
  readonly message?: string;
  /** How the chunks went: parts by path, host bytes, REQ_OP_COPY requests and the commands they became. */
  readonly parts: readonly FileCopyPart[];
  readonly host_bytes: number;
  readonly requests: number;
  readonly commands: number;
  readonly trace: Trace;
}

export interface CopychunkOptions extends FileCopyOptions {
  /** The server's limits (default SMB2_COPYCHUNK_LIMITS). */
  readonly limits?: CopychunkLimits;
  /** The trace the copy's events go to (default: a new one, in the result). */
  readonly trace?: Trace;
}

/** Parses SRV_COPYCHUNK_COPY: the source key and the chunks; null when the buffer is shorter than its ChunkCount says. */
export function decodeCopychunkCopy(buf: Uint8Array, limits: CopychunkLimits = SMB2_COPYCHUNK_LIMITS): { sourceKey: Uint8Array; chunkCount: number; chunks: SrvCopychunk[] | null } {
  if (buf.length < SRV_COPYCHUNK_COPY.CHUNKS) return { sourceKey: new Uint8Array(0), chunkCount: 0, chunks: null };
  const chunkCount = le32(buf, SRV_COPYCHUNK_COPY.CHUNK_COUNT);
  const sourceKey = buf.slice(SRV_COPYCHUNK_COPY.SOURCE_KEY, SRV_COPYCHUNK_COPY.SOURCE_KEY_LEN);
  // A count past the limit is answered with the limits before its chunks are read (or allocated).
  if (chunkCount > limits.maxChunks || buf.length < SRV_COPYCHUNK_COPY.CHUNKS + chunkCount * SRV_COPYCHUNK_COPY.CHUNK_SIZE) return { sourceKey, chunkCount, chunks: null };
  const chunks: SrvCopychunk[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const at = SRV_COPYCHUNK_COPY.CHUNKS + i * SRV_COPYCHUNK_COPY.CHUNK_SIZE;
    chunks.push({ sourceOffset: le64(buf, at), targetOffset: le64(buf, at + 8), length: le32(buf, at + 16) });
  }
  return { sourceKey, chunkCount, chunks };
}

/** SRV_COPYCHUNK_RESPONSE's 12 bytes. */
export function encodeCopychunkResponse(r: CopychunkResponse): Uint8Array {
  const out = new Uint8Array(SRV_COPYCHUNK_RESPONSE_SIZE);
  putLe32(out, 0, r.chunksWritten);
  putLe32(out, 4, r.chunkBytesWritten);
  putLe32(out, 8, r.totalBytesWritten);
  return out;
}

/** The answer to a request past the server's limits (3.3.5.15.6.2): the limits themselves. */
function overLimits(limits: CopychunkLimits, why: string): Omit<CopychunkResult, 'trace'> {
  return {
    status: NT_STATUS.INVALID_PARAMETER,
    statusName: ntStatusName(NT_STATUS.INVALID_PARAMETER),
    chunksWritten: limits.maxChunks,
    chunkBytesWritten: limits.maxChunkSize,
    totalBytesWritten: limits.maxDataSize,
    message: why,
    parts: [],
    host_bytes: 0,
    requests: 0,
    commands: 0,
  };
}

/** The status an errno of the file system's copy answers with. */
function statusOf(errno: number): number {
  switch (Math.abs(errno)) {
    case Errno.ENOSPC:
      return NT_STATUS.DISK_FULL;
    case Errno.EFBIG:
      return NT_STATUS.FILE_TOO_LARGE;
    case Errno.ECANCELED:
      return NT_STATUS.CANCELLED;
    case Errno.EISDIR:
      return NT_STATUS.FILE_IS_A_DIRECTORY;
    case Errno.ENOTSUP: // reflink: always, where the file system cannot clone
    case Errno.EXDEV:
    case Errno.EINVAL:
      return NT_STATUS.NOT_SUPPORTED;
    default:
      return NT_STATUS.UNEXPECTED_IO_ERROR;
  }
}

/**
 * FSCTL_SRV_COPYCHUNK from `source` (the open its resume key names) to `target`. Never throws
 * for a bad request: the answer is its status.
 */
export async function copychunk(source: FileRef, target: FileRef, chunks: readonly SrvCopychunk[], o: CopychunkOptions = {}, control?: FileCopyControl): Promise<CopychunkResult> {
  const limits = o.limits ?? SMB2_COPYCHUNK_LIMITS;
  const trace = o.trace ?? target.fs.lab.newTrace();
  const answer = (status: number, message: string): CopychunkResult => ({ status, statusName: ntStatusName(status), chunksWritten: 0, chunkBytesWritten: 0, totalBytesWritten: 0, message, parts: [], host_bytes: 0, requests: 0, commands: 0, trace });
  // The opens (3.3.5.15.6: the source by its key; 3.3.5.15: the target by its FileId).
  const fin = source.fs.lab === target.fs.lab ? source.fs.fdOrNull(source.fd) : null;
  if (!fin) return answer(NT_STATUS.OBJECT_NAME_NOT_FOUND, `no open file has the source key (descriptor ${source.fd})`);
  const fout = target.fs.fdOrNull(target.fd);
  if (!fout) return answer(NT_STATUS.FILE_CLOSED, `descriptor ${target.fd} is not open`);
  if (!fin.read) return answer(NT_STATUS.ACCESS_DENIED, `the source descriptor ${source.fd} is not open for reading`);
  if (!fout.write) return answer(NT_STATUS.ACCESS_DENIED, `the target descriptor ${target.fd} is not open for writing`);
  if (fin.inode.kind === 'dir' || fout.inode.kind === 'dir') return answer(NT_STATUS.FILE_IS_A_DIRECTORY, 'a descriptor refers to a directory');
  // The server's limits.
  if (chunks.length > limits.maxChunks) return { ...overLimits(limits, `${chunks.length} chunks, the server takes at most ${limits.maxChunks}`), trace };
  let total = 0;
  for (const [i, c] of chunks.entries()) {
    if (!Number.isInteger(c.length) || c.length <= 0 || c.length > limits.maxChunkSize) return { ...overLimits(limits, `chunk ${i}: length ${c.length}, a chunk is 1..${limits.maxChunkSize} bytes`), trace };
    total += c.length;
  }
  if (total > limits.maxDataSize) return { ...overLimits(limits, `${total} bytes in all, the server copies at most ${limits.maxDataSize} per request`), trace };
  // Every chunk inside the source, inside the largest file, and not onto itself.
  for (const [i, c] of chunks.entries()) {
    if (!Number.isSafeInteger(c.sourceOffset) || !Number.isSafeInteger(c.targetOffset) || c.sourceOffset < 0 || c.targetOffset < 0) return answer(NT_STATUS.END_OF_FILE, `chunk ${i}: offsets ${c.sourceOffset}, ${c.targetOffset}`);
    if (c.sourceOffset + c.length > fin.inode.size) return answer(NT_STATUS.END_OF_FILE, `chunk ${i}: ${c.sourceOffset}+${c.length} passes the source's end (${fin.inode.size})`);
    if (c.targetOffset + c.length > FS_LIMITS.fileBytes) return answer(NT_STATUS.FILE_TOO_LARGE, `chunk ${i}: a file is at most ${FS_LIMITS.fileBytes} bytes`);
    if (fin.inode === fout.inode && c.sourceOffset < c.targetOffset + c.length && c.targetOffset < c.sourceOffset + c.length) {
      return answer(NT_STATUS.NOT_SUPPORTED, `chunk ${i}: source and target ranges of one file overlap (copy_file_range refuses that: EINVAL)`);
    }
  }
  const segs = chunks.map((c) => ({ src: c.sourceOffset, dst: c.targetOffset, len: c.length }));
  try {
    const r = await copySegments({ fs: source.fs, inode: fin.inode }, { fs: target.fs, inode: fout.inode }, segs, o, trace, control);
    // Whole chunks written, and the bytes of the one it stopped in.
    let left = r.bytes;
    let whole = 0;
    while (whole < chunks.length && left >= chunks[whole]!.length) left -= chunks[whole++]!.length;
    const status = r.errno === undefined ? NT_STATUS.SUCCESS : statusOf(r.errno);
    return { status, statusName: ntStatusName(status), chunksWritten: whole, chunkBytesWritten: left, totalBytesWritten: r.bytes, ...(r.message ? { message: r.message } : {}), parts: r.parts, host_bytes: r.host_bytes, requests: r.requests, commands: r.commands, trace };
  } catch (err) {
    if (!(err instanceof ErrnoError)) throw err;
    return answer(statusOf(err.errno), err.message);
  }
}
