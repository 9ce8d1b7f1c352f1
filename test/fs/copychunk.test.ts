import { describe, expect, it } from 'vitest';
import { CopyFs } from '../../src/app/fs/fs.js';
import type { FileRef } from '../../src/app/fs/copy-file-range.js';
import {
  copychunk, decodeCopychunkCopy, encodeCopychunkResponse, NT_STATUS, SMB2_COPYCHUNK_LIMITS, SRV_COPYCHUNK_COPY, type SrvCopychunk,
} from '../../src/app/fs/copychunk.js';
import { putLe32, putLe64 } from '../../src/core/util/bytes.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { KiB, MiB, labsClosedAfterEach, pattern } from '../helpers.js';
import { openRw, readFile, writeFile } from './files.js';

const newLab = labsClosedAfterEach();

function setup(o: { size?: number; copyMax?: number; segments?: number } = {}): CopyFs {
  const lab = newLab();
  lab.addNullBlk({ name: 'nullb0', size: o.size ?? 64 * MiB, lbs: 4096, backing: 'memory', copy_max_hw_bytes: o.copyMax ?? 4 * MiB, copy_max_segments: o.segments ?? 16 });
  return CopyFs.mkfs(lab, '/dev/nullb0', { cacheBytes: 8 * MiB });
}

const source = (fs: CopyFs, data: Uint8Array): Promise<FileRef> => writeFile(fs, '/src', data);
const target = (fs: CopyFs, path = '/dst'): FileRef => openRw(fs, path);

/** A Windows client's 16 MiB copy: consecutive 1 MiB chunks. */
const consecutive = (n: number, size = MiB): SrvCopychunk[] => Array.from({ length: n }, (_, i) => ({ sourceOffset: i * size, targetOffset: i * size, length: size }));

describe('SMB2 COPYCHUNK (src/app/fs/copychunk.ts)', () => {
  it('16 consecutive 1 MiB chunks go down as one REQ_OP_COPY request, cut into the device\'s 4 MiB commands; the target reads back', async () => {
    const fs = setup();
    const data = pattern(16 * MiB, 1);
    const src = await source(fs, data);
    const r = await copychunk(src, target(fs), consecutive(16));
    expect(r.status).toBe(NT_STATUS.SUCCESS);
    expect([r.chunksWritten, r.chunkBytesWritten, r.totalBytesWritten]).toEqual([16, 0, 16 * MiB]);
    expect(r.requests).toBe(1);
    expect(r.commands).toBe(4); // copy_max_hw_bytes 4 MiB
    expect(r.host_bytes).toBe(0);
    expect(r.trace.events.filter((e) => e.op === ReqOp.COPY && e.action === 'D' && e.dev === 'nullb0').length).toBe(4);
    expect(r.parts).toEqual([expect.objectContaining({ path: 'offload', bytes: 16 * MiB })]);
    expect(await readFile(fs, '/dst', 0, 16 * MiB)).toEqualBytes(data);
    expect(fs.copies.offload).toEqual({ calls: 1, bytes: 16 * MiB });
    expect(fs.fsck()).toEqual([]);
  });

  it('scattered chunks: one request, one many-sources command onto the target\'s blocks; every chunk reads back', async () => {
    const fs = setup();
    const data = pattern(8 * MiB, 2);
    const src = await source(fs, data);
    // Target ranges 0..2 MiB from sources spread over the file, backwards; then a separate run.
    const chunks: SrvCopychunk[] = [
      { sourceOffset: 7 * MiB, targetOffset: 0, length: 256 * KiB },
      { sourceOffset: 5 * MiB, targetOffset: 256 * KiB, length: 256 * KiB },
      { sourceOffset: 3 * MiB, targetOffset: 512 * KiB, length: 512 * KiB },
      { sourceOffset: 1 * MiB, targetOffset: 4 * MiB, length: 1 * MiB },
    ];
    const r = await copychunk(src, target(fs), chunks);
    expect(r.status).toBe(NT_STATUS.SUCCESS);
    expect(r.requests).toBe(1);
    // The target's blocks are allocated in the order the chunks come, one run of device blocks
    // (the file keeps a hole between its two runs): the device takes it all as one many-sources command.
    expect(fs.stat('/dst').extents.map((e) => e.count)).toEqual([256, 256]);
    expect(fs.stat('/dst').extents[1]!.dev).toBe(fs.stat('/dst').extents[0]!.dev + 256);
    expect(r.commands).toBe(1);
    for (const c of chunks) expect(await readFile(fs, '/dst', c.targetOffset, c.length)).toEqualBytes(data.subarray(c.sourceOffset, c.sourceOffset + c.length));
    expect(await readFile(fs, '/dst', 1 * MiB, 4096)).toEqualBytes(new Uint8Array(4096)); // between the runs: a hole
  });

  it('past the server\'s limits: STATUS_INVALID_PARAMETER carrying the limits (256 chunks, 1 MiB, 16 MiB); nothing written', async () => {
    const fs = setup();
    const src = await source(fs, pattern(20 * MiB, 3));
    const limits = [SMB2_COPYCHUNK_LIMITS.maxChunks, SMB2_COPYCHUNK_LIMITS.maxChunkSize, SMB2_COPYCHUNK_LIMITS.maxDataSize];
    expect(limits).toEqual([256, 1048576, 16777216]);
    const cases: SrvCopychunk[][] = [
      consecutive(257, 4096), // too many chunks
      [{ sourceOffset: 0, targetOffset: 0, length: MiB + 1 }], // a chunk too long
      [{ sourceOffset: 0, targetOffset: 0, length: 0 }], // an empty chunk
      consecutive(17), // 17 MiB in all
    ];
    for (const chunks of cases) {
      const r = await copychunk(src, target(fs), chunks);
      expect(r.status).toBe(NT_STATUS.INVALID_PARAMETER);
      expect([r.chunksWritten, r.chunkBytesWritten, r.totalBytesWritten]).toEqual(limits);
      expect(encodeCopychunkResponse(r)).toEqual(Uint8Array.from([0, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1]));
    }
    expect(fs.lookup('/dst').size).toBe(0);
    // A server with other limits answers with its own.
    const own = await copychunk(src, target(fs), consecutive(3, 4096), { limits: { maxChunks: 2, maxChunkSize: 8192, maxDataSize: 65536 } });
    expect([own.status, own.chunksWritten, own.chunkBytesWritten, own.totalBytesWritten]).toEqual([NT_STATUS.INVALID_PARAMETER, 2, 8192, 65536]);
  });

  it('each refusal of a bad request has its status and writes nothing', async () => {
    const fs = setup();
    const src = await source(fs, pattern(2 * MiB, 4));
    const dst = target(fs);
    const one = [{ sourceOffset: 0, targetOffset: 0, length: 64 * KiB }];
    const ro = { fs, fd: fs.open('/dst', { read: true }) };
    const wo = { fs, fd: fs.open('/src', { write: true }) };
    const dir = { fs, fd: fs.open('/', { read: true }) };
    expect((await copychunk({ fs, fd: 999 }, dst, one)).statusName).toBe('STATUS_OBJECT_NAME_NOT_FOUND');
    expect((await copychunk(src, { fs, fd: 999 }, one)).statusName).toBe('STATUS_FILE_CLOSED');
    expect((await copychunk(wo, dst, one)).statusName).toBe('STATUS_ACCESS_DENIED');
    expect((await copychunk(src, ro, one)).statusName).toBe('STATUS_ACCESS_DENIED');
    expect((await copychunk(dir, dst, one)).statusName).toBe('STATUS_FILE_IS_A_DIRECTORY');
    expect((await copychunk(src, dst, [{ sourceOffset: 2 * MiB - 4096, targetOffset: 0, length: 8192 }])).statusName).toBe('STATUS_END_OF_FILE');
    expect((await copychunk(src, src, [{ sourceOffset: 0, targetOffset: 4096, length: 8192 }])).statusName).toBe('STATUS_NOT_SUPPORTED');
    expect((await copychunk(src, dst, [{ sourceOffset: 0, targetOffset: 2 ** 44, length: 4096 }])).statusName).toBe('STATUS_FILE_TOO_LARGE');
    const other = setup();
    const foreign = await source(other, pattern(4096, 5));
    expect((await copychunk(foreign, dst, [{ sourceOffset: 0, targetOffset: 0, length: 4096 }])).statusName).toBe('STATUS_OBJECT_NAME_NOT_FOUND');
    expect(fs.lookup('/dst').size).toBe(0);
  });

  it('disk full part way: STATUS_DISK_FULL with the chunks written, the bytes of the partial one and the total; those bytes are the source\'s', async () => {
    const fs = setup({ size: 12 * MiB });
    const data = pattern(8 * MiB, 6);
    const src = await source(fs, data);
    await fs.sync();
    const chunks = consecutive(8);
    const r = await copychunk(src, target(fs), chunks);
    expect(r.status).toBe(NT_STATUS.DISK_FULL);
    expect(r.chunksWritten).toBeLessThan(8);
    expect(r.totalBytesWritten).toBe(r.chunksWritten * MiB + r.chunkBytesWritten);
    expect(r.totalBytesWritten).toBeGreaterThan(0);
    expect(await readFile(fs, '/dst', 0, r.totalBytesWritten)).toEqualBytes(data.subarray(0, r.totalBytesWritten));
    expect(fs.fsck()).toEqual([]);
  });

  it('chunks off block boundaries are spliced, the rest offloaded, in the order given', async () => {
    const fs = setup();
    const data = pattern(2 * MiB, 7);
    const src = await source(fs, data);
    const chunks: SrvCopychunk[] = [
      { sourceOffset: 100, targetOffset: 100, length: 1000 },
      { sourceOffset: 64 * KiB, targetOffset: 64 * KiB, length: 128 * KiB },
      { sourceOffset: 512 * KiB + 7, targetOffset: 1 * MiB, length: 4096 },
    ];
    const r = await copychunk(src, target(fs), chunks);
    expect(r.status).toBe(NT_STATUS.SUCCESS);
    expect(r.parts.map((p) => p.path)).toEqual(['splice', 'offload', 'splice']);
    expect(r.parts[2]!.reason).toBe('the offsets differ within a block');
    for (const c of chunks) expect(await readFile(fs, '/dst', c.targetOffset, c.length)).toEqualBytes(data.subarray(c.sourceOffset, c.sourceOffset + c.length));
  });

  it('SRV_COPYCHUNK_COPY is parsed from its bytes; a buffer shorter than its ChunkCount says, or a count past the limit, gives no chunks', () => {
    const buf = new Uint8Array(SRV_COPYCHUNK_COPY.CHUNKS + 2 * SRV_COPYCHUNK_COPY.CHUNK_SIZE);
    buf.fill(0xab, 0, 24); // the resume key
    putLe32(buf, SRV_COPYCHUNK_COPY.CHUNK_COUNT, 2);
    putLe64(buf, 32, 4096);
    putLe64(buf, 40, 8192);
    putLe32(buf, 48, 65536);
    putLe64(buf, 56, 2 ** 40);
    putLe64(buf, 64, 0);
    putLe32(buf, 72, 512);
    const d = decodeCopychunkCopy(buf);
    expect(d.sourceKey).toEqual(new Uint8Array(24).fill(0xab));
    expect(d.chunks).toEqual([{ sourceOffset: 4096, targetOffset: 8192, length: 65536 }, { sourceOffset: 2 ** 40, targetOffset: 0, length: 512 }]);
    expect(decodeCopychunkCopy(buf.subarray(0, buf.length - 1)).chunks).toBeNull();
    putLe32(buf, SRV_COPYCHUNK_COPY.CHUNK_COUNT, 0xffffffff);
    expect(decodeCopychunkCopy(buf)).toMatchObject({ chunkCount: 0xffffffff, chunks: null });
    expect(decodeCopychunkCopy(new Uint8Array(10)).chunks).toBeNull();
  });
});
