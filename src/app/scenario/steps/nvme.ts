/**
 * The `nvme` step: one raw command through the host driver's passthrough (as `nvme io-passthru` /
 * `nvme admin-passthru`), with expectations on status ((SCT << 8) | SC), DW0, DW1 and returned data.
 */
import { buildSqe } from '../../../../devices/nvme/codec.js';
import { nvmeController } from '../../../../devices/nvme/attach.js';
import { nvmeStatusToErrno } from '../../../../devices/nvme/driver.js';
import { PASSTHRU_MAX_BYTES } from '../../../../devices/nvme/host.js';
import { statusName } from '../../../../devices/nvme/spec.js';
import type { Field } from '../fields.js';
import type { StepDef } from '../types.js';
import { k, type KeySpec, type ObjSpec } from '../keys.js';
import { parseHex } from '../../../core/util/bytes.js';
import { dataDifference } from '../expect.js';
import { Errno } from '../../../core/util/errno.js';

const CDW_KEYS = Array.from({ length: 14 }, (_, i) => `cdw${i + 2}`).filter((key) => !['cdw4', 'cdw5', 'cdw6', 'cdw7', 'cdw8', 'cdw9'].includes(key));
const NVME_EXPECT: ObjSpec = {
  description: 'what the command must complete with',
  keys: {
    status: k.u32('status as (SCT << 8) | SC', { default: 0, example: '0x0183' }),
    dw0: k.u32('completion DW0'),
    dw1: k.u32('completion DW1'),
    data_hex: k.hex('a prefix of the returned data'),
  },
};
export const NVME_STEP_SPEC: ObjSpec = {
  description: 'one raw NVMe command through the host driver\'s passthrough (nvme io-passthru / admin-passthru)',
  keys: {
    dev: k.dev('a controller (/dev/nvme0, NSID 0 unless nsid is given) or a namespace (its NSID)', { required: true, example: '/dev/nvme0n1' }),
    admin: k.bool('send on the admin queue', { default: false }),
    opcode: k.u32('the opcode (0..255)', { required: true, example: '0x19' }),
    nsid: k.u32('namespace ID', { default: 'the namespace of dev' }),
    ...Object.fromEntries(CDW_KEYS.map((key): [string, KeySpec] => [key, k.u32(`command dword ${key.slice(3)}`)])),
    data_hex: k.hex('host-to-controller data'),
    data_file: k.str("host-to-controller data from a file (relative to the scenario's folder, which it may not leave without --allow-outside-paths)"),
    data_len: k.int(0, PASSTHRU_MAX_BYTES, 'controller-to-host data length (and the padded length of host data)'),
    expect: k.obj(NVME_EXPECT, { example: { status: '0x0183' } }),
  },
};

const u32 = (f: Field): number => {
  if (typeof f.value === 'string' && /^0x[0-9a-f]{1,8}$/i.test(f.value)) return Number(f.value);
  return f.int(0, 0xffffffff);
};

/** Most characters a hex string of `maxBytes` bytes may take ("0x0a, " is six per byte): checked before parsing. */
export const hexTextMax = (maxBytes: number): number => maxBytes * 6 + 2;

/** The field's hex bytes, at most `max` of them. */
function hexOf(f: Field, max: number): Uint8Array {
  const t = f.text();
  if (t.length > hexTextMax(max)) f.fail(`at most ${max} bytes of hex`);
  const d = parseHex(t) ?? f.fail('expected hex bytes');
  if (d.length > max) f.fail(`at most ${max} bytes of hex`);
  return d;
}

export const nvmeStep: StepDef = {
  kind: 'nvme',
  spec: NVME_STEP_SPEC,
  parse(body, ctx) {
    const cdwKeys = CDW_KEYS;
    body.obj(NVME_STEP_SPEC);
    const devF = body.key('dev');
    const dev = devF.required().devPath().slice('/dev/'.length);
    const m = /^(nvme\d+)(?:n(\d+))?$/.exec(dev) ?? devF.fail('expected /dev/nvmeN (controller) or /dev/nvmeNnM (namespace)');
    const ctrlName = m[1]!;
    if (![...ctx.devices].some((d) => d.startsWith(`${ctrlName}n`))) devF.fail(`unknown NVMe controller ${ctrlName}`);
    if (m[2] && !ctx.devices.has(dev)) devF.fail(`unknown namespace /dev/${dev}`);
    const admin = body.key('admin').present ? body.key('admin').bool() : false;
    const opcode = body.key('opcode').required().present ? u32(body.key('opcode')) : 0;
    if (opcode > 0xff) body.key('opcode').fail('an opcode is 0..255');
    const nsid = body.key('nsid').present ? u32(body.key('nsid')) : m[2] ? Number(m[2]) : 0;
    const cdw: Record<number, number> = {};
    for (const k of cdwKeys) if (body.key(k).present) cdw[Number(k.slice(3))] = u32(body.key(k));
    if (body.key('data_hex').present && body.key('data_file').present) body.fail('give data_hex or data_file, not both');
    let data: Uint8Array | undefined;
    if (body.key('data_hex').present) data = hexOf(body.key('data_hex'), PASSTHRU_MAX_BYTES);
    // Read when the scenario is parsed, so a missing, oversized or out-of-folder file stops the run before it starts.
    if (body.key('data_file').present) data = ctx.dataFile(body.key('data_file'), PASSTHRU_MAX_BYTES);
    const dataLen = body.key('data_len').present ? body.key('data_len').int(0, PASSTHRU_MAX_BYTES) : undefined;
    const e = body.key('expect');
    const expect: { status?: number; dw0?: number; dw1?: number; data?: Uint8Array } = {};
    if (e.present) {
      e.obj(NVME_EXPECT);
      if (e.key('status').present) expect.status = u32(e.key('status'));
      if (e.key('dw0').present) expect.dw0 = u32(e.key('dw0'));
      if (e.key('dw1').present) expect.dw1 = u32(e.key('dw1'));
      if (e.key('data_hex').present) expect.data = hexOf(e.key('data_hex'), PASSTHRU_MAX_BYTES);
    }
    return {
      kind: 'nvme',
      async run(lab) {
        const att = nvmeController(lab, ctrlName);
        if (!att) return { target: `/dev/${dev}`, res: -Errno.ENODEV, ok: false, message: `no controller ${ctrlName}` };
        const r = await att.host.passthru({ admin, cmd: buildSqe({ opcode, nsid, cdw }), ...(data ? { data } : {}), ...(dataLen !== undefined ? { dataLen } : {}) });
        const problems: string[] = [];
        const want = expect.status ?? 0;
        if (r.status !== want) problems.push(`expected status 0x${want.toString(16).padStart(4, '0')}, got ${r.status < 0 ? r.status : statusName(r.status)}`);
        if (expect.dw0 !== undefined && r.dw0 !== expect.dw0) problems.push(`expected dw0 ${expect.dw0}, got ${r.dw0}`);
        if (expect.dw1 !== undefined && r.dw1 !== expect.dw1) problems.push(`expected dw1 ${expect.dw1}, got ${r.dw1}`);
        const differs = expect.data !== undefined ? dataDifference(r.data ?? new Uint8Array(0), expect.data, true) : undefined;
        if (differs) problems.push(`returned data ${differs}`);
        return {
          target: `/dev/${dev}`,
          res: r.status === 0 ? 0 : nvmeStatusToErrno(r.status),
          ok: problems.length === 0,
          value: r.status < 0 ? String(r.status) : statusName(r.status),
          message: problems.length ? problems.join('; ') : r.status < 0 ? `refused by the host (${r.status})` : statusName(r.status),
          details: { status: r.status, dw0: r.dw0, dw1: r.dw1, dnr: r.dnr, ...(r.data ? { data_bytes: r.data.length } : {}) },
        };
      },
    };
  },
};
