import { Lab } from '../../../src/app/lab.js';
import { addNvmeController, type NvmeAttachment } from '../../../devices/nvme/attach.js';
import type { NvmeControllerOptions, NvmeNamespaceOptions } from '../../../devices/nvme/defaults.js';
import { buildSqe, copyCdws, encodeRanges, type SourceRange } from '../../../devices/nvme/codec.js';
import { IoOpc } from '../../../devices/nvme/spec.js';
import type { PassthruResult } from '../../../devices/nvme/host.js';
import { MiB } from '../../helpers.js';

export function nvmeLab(namespaces: NvmeNamespaceOptions[], ctrl: Partial<NvmeControllerOptions> = {}): { lab: Lab; n: NvmeAttachment } {
  const lab = new Lab();
  const n = addNvmeController(lab, { name: 'nvme0', namespaces: namespaces.map((ns) => ({ backing: 'memory', ...ns })), ...ctrl });
  return { lab, n };
}

export const ns4k = (size = 16 * MiB, extra: Partial<NvmeNamespaceOptions> = {}): NvmeNamespaceOptions => ({ size, lbs: 4096, ...extra });

export function io(n: NvmeAttachment, opcode: number, nsid: number, cdw: Record<number, number> = {}, data?: Uint8Array, dataLen?: number): Promise<PassthruResult> {
  return n.host.passthru({ admin: false, cmd: buildSqe({ opcode, nsid, cdw }), ...(data ? { data } : {}), ...(dataLen ? { dataLen } : {}) });
}

export function admin(n: NvmeAttachment, opcode: number, nsid: number, cdw: Record<number, number> = {}, data?: Uint8Array, dataLen?: number): Promise<PassthruResult> {
  return n.host.passthru({ admin: true, cmd: buildSqe({ opcode, nsid, cdw }), ...(data ? { data } : {}), ...(dataLen ? { dataLen } : {}) });
}

export function copy(n: NvmeAttachment, nsid: number, sdlba: number, ranges: Partial<SourceRange>[], format = 0, extra: { fua?: boolean; nr?: number } = {}): Promise<PassthruResult> {
  const cdw = copyCdws({ sdlba, nr: extra.nr ?? ranges.length, format, fua: extra.fua ?? false });
  return io(n, IoOpc.COPY, nsid, cdw, encodeRanges(format, ranges));
}

export const lba = (slba: number, cdw12 = 0, cdw13 = 0): Record<number, number> => ({ 10: slba >>> 0, 11: Math.floor(slba / 2 ** 32), 12: cdw12, 13: cdw13 });
