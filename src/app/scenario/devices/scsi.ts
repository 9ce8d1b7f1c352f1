/** The `scsi` device kind: an array with logical units, seen by the lab's host through sd (docs/scsi.md). */
import type { DeviceDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';
import { timingKey } from '../timing-key.js';
import type { ScsiLabOptions } from '../../../../devices/scsi/attach.js';
import type { LuOptions } from '../../../../devices/scsi/lu.js';
import { COPY_MODES } from '../../../../devices/scsi/sd.js';
import { SD_DEFAULT_INITIATOR } from '../../../../devices/scsi/sd.js';
import { TOKEN_SCOPES } from '../../../../devices/scsi/copy-access.js';
import { SCSI_EXECUTIONS } from '../../../../devices/scsi/worker-attach.js';

const LU_SPEC: ObjSpec = {
  description: 'a logical unit; the host sees it as /dev/NAME',
  keys: {
    name: k.str('the sd disk name: /dev/NAME', { required: true, example: 'sda' }),
    size: k.size('capacity, a multiple of lbs', { required: true, example: '64MiB' }),
    lbs: k.oneOf([512, 4096], 'logical block size', { default: 512 }),
    backing: k.oneOf(['memory', 'sparse'], 'media store', { default: 'sparse' }),
    serial: k.str('unit serial number (VPD 80h)'),
    timing: timingKey('the LU (replaces the array\'s)'),
  },
};

export const SCSI_SPEC: ObjSpec = {
  description: 'a SCSI array of logical units with a copy manager (EXTENDED COPY, ROD tokens), seen through the sd driver (docs/scsi.md)',
  keys: {
    kind: k.oneOf(['scsi'], 'the device kind', { required: true }),
    array: k.str('the array\'s name (one copy manager)', { required: true, example: 'arr0' }),
    lus: k.list(k.obj(LU_SPEC), 256, 'the logical units', { required: true, example: [{ name: 'sda', size: '64MiB' }] }),
    initiators: k.map(k.list(k.int(0, 255, 'LUN'), 256, 'LUNs'), 'LUN masking: initiator name → the LUNs it sees', { example: { 'iqn.2024-01.org.copylab:host': [0, 1], guest: [1] } }),
    host_initiator: k.str('the lab host\'s initiator name', { default: SD_DEFAULT_INITIATOR }),
    copy_mode: k.oneOf(COPY_MODES, 'how sd sends REQ_OP_COPY: EXTENDED COPY, POPULATE TOKEN + WRITE USING TOKEN, or not at all', { default: 'auto' }),
    domain: k.str('copy domain of its disks (arrays sharing a domain copy between each other)', { default: 'scsi:<array>' }),
    reach: k.list(k.str('array name'), 64, 'arrays its copy manager reaches (default all)'),
    token_scope: k.oneOf(TOKEN_SCOPES, 'who may use a ROD token: access (anyone who may read its LU) or initiator (only its maker)', { default: 'access' }),
    copy_manager: k.bool('false: no third-party copy', { default: true }),
    timing: timingKey('the array\'s LUs'),
    execution: k.oneOf(SCSI_EXECUTIONS, 'inline: the array runs on the lab\'s thread; worker: on the worker thread of the lab\'s SCSI fabric, which runs every array (all inline or all worker)', { default: 'inline' }),
  },
};

export const scsiDevice: DeviceDef = {
  kind: 'scsi',
  spec: SCSI_SPEC,
  parse(f) {
    f.obj(SCSI_SPEC);
    const name = f.key('array').required().str();
    const lus: LuOptions[] = f.key('lus').required().list(256).map((l) => {
      l.obj(LU_SPEC);
      const lu: { -readonly [K in keyof LuOptions]: LuOptions[K] } = { name: l.key('name').required().str(), size: l.key('size').required().size() };
      if (l.key('lbs').present) lu.lbs = l.key('lbs').oneOf([512, 4096] as const);
      if (l.key('backing').present) lu.backing = l.key('backing').oneOf(['memory', 'sparse'] as const);
      if (l.key('serial').present) lu.serial = l.key('serial').str();
      if (l.key('timing').present) lu.timing = l.key('timing').timing();
      return lu;
    });
    const o: { -readonly [K in keyof ScsiLabOptions]: ScsiLabOptions[K] } = { name, lus };
    if (f.key('initiators').present) {
      const ini = f.key('initiators');
      const obj = ini.obj(Object.keys((ini.value as Record<string, unknown>) ?? {}));
      const out: Record<string, number[]> = {};
      for (const k of Object.keys(obj)) out[k] = ini.key(k).list(256).map((x) => x.int(0, 255));
      o.initiators = out;
    }
    if (f.key('host_initiator').present) o.hostInitiator = f.key('host_initiator').str();
    if (f.key('copy_mode').present) o.copyMode = f.key('copy_mode').oneOf(COPY_MODES);
    if (f.key('domain').present) o.domain = f.key('domain').str();
    if (f.key('reach').present) o.reach = f.key('reach').list(64).map((x) => x.str());
    if (f.key('token_scope').present) o.tokenScope = f.key('token_scope').oneOf(TOKEN_SCOPES);
    if (f.key('copy_manager').present) o.copyManager = f.key('copy_manager').bool();
    // A timing model the array's LUs share (an LU's own `timing` replaces it for that LU).
    if (f.key('timing').present) o.timing = f.key('timing').timing();
    if (f.key('execution').present) o.execution = f.key('execution').oneOf(SCSI_EXECUTIONS);
    const host = o.hostInitiator ?? SD_DEFAULT_INITIATOR;
    const provides = lus.filter((_, i) => !o.initiators || (o.initiators[host] ?? []).includes(i)).map((l) => l.name);
    return {
      provides,
      create(lab) {
        lab.attach('scsi', o);
      },
    };
  },
};
