/**
 * A real peer checks the bytes: libnvme (Debian's libnvme-dev) fills Copy source range
 * descriptors and builds the Copy command; the model decodes them field by field, then runs that
 * very command against a namespace and the copy is read back. CI installs libnvme-dev; without it
 * this test fails and says so (it never skips).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRange, buildSqe, parseSqe, parseCopyCmd } from '../../devices/nvme/codec.js';
import { IoOpc } from '../../devices/nvme/spec.js';
import { nvmeLab, ns4k } from '../devices/nvme/nvme-helpers.js';
import { pattern } from '../helpers.js';

const hexBytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

function buildPeer(): string {
  const exe = join(mkdtempSync(join(tmpdir(), 'copylab-peer-')), 'libnvme-copy');
  const cc = spawnSync('gcc', ['-Wall', '-o', exe, 'test/peers/libnvme-copy.c', '-lnvme'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    throw new Error(
      `cannot build the libnvme peer (gcc + libnvme-dev are required: apt-get install -y --no-install-recommends gcc libc6-dev libnvme-dev):\n${cc.error?.message ?? cc.stderr}`,
    );
  }
  return exe;
}

describe('libnvme peer: Copy descriptors and command bytes', () => {
  const exe = buildPeer();
  const run = spawnSync(exe, [], { encoding: 'utf8' });
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('the peer ran', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(lines.length).toBe(7);
  });

  it('decodes every field of libnvme 1.3 format 0 and 1 descriptors', () => {
    for (const l of lines.filter((x) => x['format'] !== undefined)) {
      const fmt = l['format'] as number;
      const bytes = hexBytes(l['bytes'] as string);
      expect(bytes.length).toBe(fmt === 0 ? 32 : 40);
      const d = decodeRange(fmt, bytes);
      expect(d.slba).toBe(l['slba']);
      expect(d.nlb).toBe((l['nlb'] as number) + 1); // the descriptor's NLB is 0-based
      // libnvme 1.3 names offset 28 (format 1: 36) `elbatm` and offset 30 (38) `elbat`; the spec and
      // QEMU call them ELBAT and ELBATM. Same bytes, swapped names: compare by offset.
      expect(d.elbat).toBe(l['libnvme_elbatm']);
      expect(d.elbatm).toBe(l['libnvme_elbat']);
      if (fmt === 0) expect(d.eilbrt).toBe(l['eilbrt']);
      else expect(d.elbt).toBe(l['elbt']);
    }
  });

  it("decodes the Copy command nvme_copy() built, and runs it against a namespace", async () => {
    const c = lines.find((x) => x['command'])!;
    const cdw = c['cdw'] as number[];
    const sqe = parseSqe(buildSqe({ opcode: c['opcode'] as number, nsid: c['nsid'] as number, cdw: { 2: cdw[0]!, 3: cdw[1]!, 10: cdw[2]!, 11: cdw[3]!, 12: cdw[4]!, 13: cdw[5]!, 14: cdw[6]!, 15: cdw[7]! } }));
    expect(sqe.opcode).toBe(IoOpc.COPY);
    expect(parseCopyCmd(sqe)).toMatchObject({ sdlba: 1000, nr: 2, format: 0, prinfor: 1, prinfow: 2, fua: true, lr: false, dspec: 0x0102, lbatm: 0xc3c3, lbat: 0xd4d4, dtype: 0, stcw: false });
    const data = hexBytes(c['data'] as string);
    expect(data.length).toBe(2 * 32);

    const { lab, n } = nvmeLab([ns4k()]);
    const src = pattern(32 * 4096, 21);
    await lab.write('nvme0n1', 0, src);
    const cmd = buildSqe({ opcode: sqe.opcode, nsid: sqe.nsid, cdw: { 10: sqe.cdw10, 11: sqe.cdw11, 12: sqe.cdw12, 13: sqe.cdw13, 14: sqe.cdw14, 15: sqe.cdw15 } });
    const r = await n.host.passthru({ admin: false, cmd, data });
    expect(r.status).toBe(0);
    expect(await lab.read('nvme0n1', 1000 * 4096, 8 * 4096)).toEqualBytes(src.subarray(0, 8 * 4096));
    expect(await lab.read('nvme0n1', 1008 * 4096, 4 * 4096)).toEqualBytes(src.subarray(16 * 4096, 20 * 4096));
  });
});
