/** The `scsi` step: one CDB passed through to the LU behind an sd disk, with status, sense and data checks. */
import type { StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';
import type { Field } from '../fields.js';
import { SdDevice } from '../../../../devices/scsi/sd.js';
import { parseHex, toHex } from '../../../core/util/bytes.js';
import { decodeSense } from '../../../../devices/scsi/sense.js';
import { STATUS_NAME, SENSE_KEY_NAME } from '../../../../devices/scsi/constants.js';
import { Errno } from '../../../core/util/errno.js';
import { hexTextMax } from './nvme.js';
import { dataDifference } from '../expect.js';
import { shownValue } from '../../../core/util/escaped-prefix.js';

/** Data-Out bytes a step may carry. */
export const SCSI_STEP_MAX_DATA = 16 * 1024 * 1024;

function hexField(f: Field, max: number): Uint8Array {
  if (f.str().length > hexTextMax(max)) f.fail(`at most ${max} bytes`);
  const b = parseHex(f.str());
  if (!b) f.fail('expected hex bytes (spaces allowed)');
  if (b.length > max) f.fail(`at most ${max} bytes`);
  return b;
}

function statusOf(f: Field): number {
  if (typeof f.value === 'number') return f.int(0, 255);
  const s = f.str().toUpperCase().replace(/_/g, ' ');
  const hit = Object.entries(STATUS_NAME).find(([, n]) => n === s);
  if (!hit) f.fail(`unknown status ${shownValue(f.value)} (GOOD, CHECK_CONDITION, RESERVATION_CONFLICT or a number)`);
  return Number(hit[0]);
}

const SCSI_EXPECT: ObjSpec = {
  description: 'status, sense and Data-In the command must end with',
  keys: {
    status: k.anyOf([k.oneOf(Object.values(STATUS_NAME).flatMap((n) => [n.replace(/ /g, '_'), ...(n.includes(' ') ? [n] : [])]), 'status name'), k.int(0, 255, 'status byte')], 'status name or number', 'SAM status (default GOOD, or CHECK_CONDITION when a sense key or ASC is expected)'),
    sense_key: k.int(0, 15, 'sense key', { example: 5 }),
    asc: k.int(0, 255, 'additional sense code', { example: 0x20 }),
    ascq: k.int(0, 255, 'additional sense code qualifier', { example: 0 }),
    data_in_hex: k.hex('the Data-In bytes'),
  },
};
export const SCSI_STEP_SPEC: ObjSpec = {
  description: 'one CDB to the LU behind an sd disk, with status, sense and data checks',
  keys: {
    dev: k.dev('an sd disk of the lab', { required: true, example: '/dev/sda' }),
    initiator: k.str('the initiator name the command comes from', { default: 'the host\'s' }),
    cdb: k.hex('the CDB, 6..32 bytes', { required: true, example: '12 00 00 00 08 00' }),
    data_out: k.hex('Data-Out bytes'),
    data_file: k.str("Data-Out bytes from a file (relative to the scenario's folder, which it may not leave without --allow-outside-paths)"),
    alloc_len: k.int(0, SCSI_STEP_MAX_DATA, 'Data-In buffer length', { default: 4096 }),
    expect: k.obj(SCSI_EXPECT, { example: { status: 'GOOD' } }),
  },
};

export const scsiStep: StepDef = {
  kind: 'scsi',
  spec: SCSI_STEP_SPEC,
  parse(body, ctx) {
    body.obj(SCSI_STEP_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const kind = ctx.kindOf(dev);
    if (kind !== 'scsi') body.key('dev').fail(`${dev} is not a SCSI disk (it is a ${kind ?? 'unknown'} device)`);
    const initiator = body.key('initiator').present ? body.key('initiator').str() : undefined;
    const cdb = hexField(body.key('cdb').required(), 32);
    if (cdb.length < 6) body.key('cdb').fail('a CDB has at least 6 bytes');
    if (body.key('data_out').present && body.key('data_file').present) body.fail('give data_out or data_file, not both');
    let dataOut: Uint8Array | undefined;
    if (body.key('data_out').present) dataOut = hexField(body.key('data_out'), SCSI_STEP_MAX_DATA);
    // Read when the scenario is parsed, so a missing, oversized or out-of-folder file stops the run before it starts.
    if (body.key('data_file').present) dataOut = ctx.dataFile(body.key('data_file'), SCSI_STEP_MAX_DATA);
    const allocLen = body.key('alloc_len').present ? body.key('alloc_len').int(0, SCSI_STEP_MAX_DATA) : 4096;
    const e = body.key('expect');
    const exp: { status?: number; key?: number; asc?: number; ascq?: number; data?: Uint8Array } = {};
    if (e.present) {
      e.obj(SCSI_EXPECT);
      if (e.key('status').present) exp.status = statusOf(e.key('status'));
      if (e.key('sense_key').present) exp.key = e.key('sense_key').int(0, 15);
      if (e.key('asc').present) exp.asc = e.key('asc').int(0, 255);
      if (e.key('ascq').present) exp.ascq = e.key('ascq').int(0, 255);
      if (e.key('data_in_hex').present) exp.data = hexField(e.key('data_in_hex'), SCSI_STEP_MAX_DATA);
    }
    const expectStatus = exp.status ?? (exp.key !== undefined || exp.asc !== undefined ? 0x02 : 0x00);
    return {
      kind: 'scsi',
      async run(lab) {
        const sd = lab.device(dev);
        if (!(sd instanceof SdDevice)) return { target: dev, res: -Errno.ENOTSUP, ok: false, message: `${dev} is not a SCSI disk` };
        // executeAsync: answered at once on store media, at its modeled time on a timed array.
        const r = await sd.array.executeAsync(initiator ?? sd.initiator, sd.lun, cdb, dataOut, allocLen);
        const s = decodeSense(r.senseData);
        const problems: string[] = [];
        if (r.status !== expectStatus) problems.push(`expected status ${STATUS_NAME[expectStatus] ?? expectStatus}, got ${STATUS_NAME[r.status] ?? r.status}`);
        const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
        if (exp.key !== undefined && s?.key !== exp.key) problems.push(`expected sense key ${hex2(exp.key)}, got ${s ? hex2(s.key) : 'none'}`);
        if (exp.asc !== undefined && s?.asc !== exp.asc) problems.push(`expected ASC ${hex2(exp.asc)}, got ${s ? hex2(s.asc) : 'none'}`);
        if (exp.ascq !== undefined && s?.ascq !== exp.ascq) problems.push(`expected ASCQ ${hex2(exp.ascq)}, got ${s ? hex2(s.ascq) : 'none'}`);
        // A Data-In that is not the expected one is described (offset, lengths, digest), not shown.
        const differs = exp.data !== undefined ? dataDifference(r.dataIn, exp.data, false) : undefined;
        if (differs) problems.push(`Data-In ${differs}`);
        const dataHex = differs ? '' : toHex(r.dataIn);
        const senseText = s ? `${SENSE_KEY_NAME[s.key] ?? s.key} ${hex2(s.asc)}/${hex2(s.ascq)}` : undefined;
        return {
          target: dev,
          res: r.status === 0 ? r.dataIn.length : -Errno.EIO,
          ok: problems.length === 0,
          bytes: r.dataIn.length,
          ...(problems.length ? { message: problems.join('; ') } : senseText ? { message: senseText } : {}),
          details: { status: r.status, sense_hex: toHex(r.senseData), ...(differs ? { data_in_bytes: r.dataIn.length } : { data_in_hex: dataHex.length <= 8192 ? dataHex : `${dataHex.slice(0, 8192)}…` }), ...(s ? { sense: s } : {}) },
        };
      },
    };
  },
};
