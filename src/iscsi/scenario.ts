/**
 * The `iscsi` section of scenario files: the targets `copylab serve iscsi` exports.
 *
 *   iscsi:
 *     targets:
 *       - iqn: iqn.2024-01.org.copylab:disk
 *         luns: [ { lun: 0, dev: /dev/sda }, { lun: 1, dev: /dev/sdb } ]
 *         initiators: [ iqn.2005-03.org.open-iscsi:host1 ]   # optional: who may log in
 *         chap: { user: alice, secret: s3cret-12chars }       # optional
 *
 * A LUN is an LU of a SCSI array: an sd disk of the lab, exported at its own LUN, so the target
 * is the front of that array (REPORT LUNS, copy manager and ROD tokens are the array's).
 */
import type { Field } from '../scenario/fields.js';
import type { Lab } from '../lab.js';
import { SdDevice } from '../../devices/scsi/sd.js';
import type { ScsiArray } from '../../devices/scsi/array.js';
import type { ChapConfig } from './chap.js';
import { validIscsiName, type ExportedTarget } from './target-config.js';

export const ISCSI_SCENARIO_LIMITS = { targets: 64, lunsPerTarget: 256, initiators: 256, secretMin: 12, secretMax: 16 } as const;

export interface LunSpec {
  readonly lun: number;
  readonly dev: string;
}

export interface TargetSpec {
  readonly iqn: string;
  readonly alias?: string;
  readonly luns: readonly LunSpec[];
  readonly initiators?: readonly string[];
  readonly chap?: ChapConfig;
}

export interface IscsiSpec {
  readonly targets: readonly TargetSpec[];
}

export function parseIscsi(f: Field, devPath: (f: Field) => string): IscsiSpec | undefined {
  if (!f.present) return undefined;
  f.obj(['targets']);
  const seen = new Set<string>();
  const targets = f.key('targets').required().list(ISCSI_SCENARIO_LIMITS.targets).map((t) => {
    t.obj(['iqn', 'alias', 'luns', 'initiators', 'chap']);
    const iqn = t.key('iqn').required().str();
    if (!validIscsiName(iqn)) t.key('iqn').fail('expected an iSCSI name (iqn.YYYY-MM.domain[:id], RFC 7143 4.2.7)');
    if (seen.has(iqn)) t.key('iqn').fail(`duplicate target ${iqn}`);
    seen.add(iqn);
    const lunSeen = new Set<number>();
    const luns = t.key('luns').required().list(ISCSI_SCENARIO_LIMITS.lunsPerTarget).map((l, i) => {
      let spec: LunSpec;
      if (typeof l.value === 'string') spec = { lun: i, dev: devPath(l) };
      else {
        l.obj(['lun', 'dev']);
        spec = { lun: l.key('lun').required().int(0, 16383), dev: devPath(l.key('dev')) };
      }
      if (lunSeen.has(spec.lun)) l.fail(`duplicate LUN ${spec.lun}`);
      lunSeen.add(spec.lun);
      return spec;
    });
    const out: { -readonly [K in keyof TargetSpec]: TargetSpec[K] } = { iqn, luns };
    if (t.key('alias').present) out.alias = t.key('alias').str();
    if (t.key('initiators').present) {
      out.initiators = t.key('initiators').list(ISCSI_SCENARIO_LIMITS.initiators).map((x) => {
        const n = x.str();
        if (!validIscsiName(n)) x.fail('expected an iSCSI name');
        return n;
      });
    }
    if (t.key('chap').present) {
      const c = t.key('chap');
      c.obj(['user', 'secret', 'target_user', 'target_secret']);
      const secret = (k: string): string => {
        const s = c.key(k).required().str();
        // RFC 7143 12.1.3 / common practice (open-iscsi, LIO): 12-16 byte secrets.
        if (s.length < ISCSI_SCENARIO_LIMITS.secretMin || s.length > ISCSI_SCENARIO_LIMITS.secretMax) c.key(k).fail(`expected ${ISCSI_SCENARIO_LIMITS.secretMin}-${ISCSI_SCENARIO_LIMITS.secretMax} characters`);
        return s;
      };
      const chap: { -readonly [K in keyof ChapConfig]: ChapConfig[K] } = { user: c.key('user').required().str(), secret: secret('secret') };
      if (c.key('target_user').present || c.key('target_secret').present) {
        chap.targetUser = c.key('target_user').required().str();
        chap.targetSecret = secret('target_secret');
      }
      out.chap = chap;
    }
    return out;
  });
  return { targets };
}

/** Resolves the spec against a built lab; throws RangeError naming the target and LUN. */
export function exportTargets(lab: Lab, spec: IscsiSpec): ExportedTarget[] {
  return spec.targets.map((t) => {
    let array: ScsiArray | null = null;
    for (const l of t.luns) {
      const d = lab.findDevice(l.dev);
      const where = `iscsi target ${t.iqn} LUN ${l.lun}`;
      if (!(d instanceof SdDevice)) throw new RangeError(`${where}: ${l.dev} is not a SCSI disk (export LUs of a scsi array)`);
      if (array && d.array !== array) throw new RangeError(`${where}: ${l.dev} is in array ${d.array.name}, the target fronts ${array.name}`);
      if (d.lun !== l.lun) throw new RangeError(`${where}: ${l.dev} is LUN ${d.lun} of its array; export it as LUN ${d.lun}`);
      array = d.array;
    }
    if (!array) throw new RangeError(`iscsi target ${t.iqn}: no LUNs`);
    return { iqn: t.iqn, array, luns: t.luns.map((l) => l.lun), ...(t.alias ? { alias: t.alias } : {}), ...(t.initiators ? { initiators: t.initiators } : {}), ...(t.chap ? { chap: t.chap } : {}) };
  });
}
