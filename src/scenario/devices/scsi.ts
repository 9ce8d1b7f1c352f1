/** The `scsi` device kind: an array with logical units, seen by the lab's host through sd (docs/scsi.md). */
import type { DeviceDef } from '../types.js';
import { addScsiArray, type ScsiLabOptions } from '../../../devices/scsi/lab.js';
import type { LuOptions } from '../../../devices/scsi/lu.js';
import { COPY_MODES } from '../../../devices/scsi/sd.js';
import { SD_DEFAULT_INITIATOR } from '../../../devices/scsi/sd.js';
import { TOKEN_SCOPES } from '../../../devices/scsi/copy-access.js';

export const scsiDevice: DeviceDef = {
  kind: 'scsi',
  parse(f) {
    f.obj(['kind', 'array', 'lus', 'initiators', 'host_initiator', 'copy_mode', 'domain', 'reach', 'token_scope', 'copy_manager', 'timing']);
    const name = f.key('array').required().str();
    const lus: LuOptions[] = f.key('lus').required().list(256).map((l) => {
      l.obj(['name', 'size', 'lbs', 'backing', 'serial', 'timing']);
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
    const host = o.hostInitiator ?? SD_DEFAULT_INITIATOR;
    const provides = lus.filter((_, i) => !o.initiators || (o.initiators[host] ?? []).includes(i)).map((l) => l.name);
    return {
      provides,
      create(lab) {
        addScsiArray(lab, o);
      },
    };
  },
};
