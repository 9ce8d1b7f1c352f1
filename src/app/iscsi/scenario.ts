/**
 * The `iscsi` section of scenario files: the targets `copylab serve iscsi` exports.
 *
 *   iscsi:
 *     targets:
 *       - iqn: iqn.2024-01.org.copylab:disk
 *         luns: [ { lun: 0, dev: /dev/sda }, { lun: 1, dev: /dev/sdb } ]
 *         initiators: [ iqn.2005-03.org.open-iscsi:host1 ]   # optional: who may log in
 *         chap: { user: alice, secret: s3cret-12chars }       # optional
 *         discovery_auth: none  # optional: list the CHAP target to unauthenticated discovery sessions
 *         reach: [ arr ]        # optional: arrays its copy manager reaches for third-party copy
 *         token_scope: access   # optional: access (default) | initiator
 *
 * A LUN is any block device of the lab (`/dev/nullb0`, `/dev/mapper/x`, `/dev/nvme0n1`, an sd
 * disk), exported through the SCSI model:
 * - when every LUN is an sd disk of one SCSI array at its own LUN, the target is the front of
 *   that array (REPORT LUNS, copy manager and ROD tokens are the array's);
 * - otherwise the target gets an array of its own (a gateway, as LIO's block backstores are)
 *   whose LUs have the devices as their media: SCSI commands become bios, and EXTENDED COPY or
 *   token copies between two of its LUs go through the block layer's copy engine. The LUNs of
 *   such a target are numbered 0..n-1.
 */
import type { Field } from '../scenario/fields.js';
import { k, type ObjSpec } from '../scenario/keys.js';
import type { Lab } from '../lab.js';
import { SdDevice } from '../../../devices/scsi/sd.js';
import type { ScsiArray } from '../../../devices/scsi/array.js';
import { scsiFabricOf } from '../../../devices/scsi/attach.js';
import type { BlockDevice } from '../../core/block/device.js';
import type { ChapConfig } from './chap.js';
import { DISCOVERY_AUTHS, validIscsiName, type DiscoveryAuth, type ExportedTarget } from './target-config.js';
import { TOKEN_SCOPES, type TokenScope } from '../../../devices/scsi/copy-access.js';

export const ISCSI_SCENARIO_LIMITS = { targets: 64, lunsPerTarget: 256, initiators: 256, secretMin: 12, secretMax: 16 } as const;

const LUN_SPEC: ObjSpec = {
  description: 'a LUN and the lab block device behind it',
  keys: { lun: k.int(0, 16383, 'the LUN', { required: true }), dev: k.dev('any block device of the lab', { required: true, example: '/dev/sda' }) },
};
const CHAP_SPEC: ObjSpec = {
  description: 'CHAP authentication (RFC 7143 12.1.3): the initiator\'s user and secret, and optionally the target\'s for mutual CHAP',
  keys: {
    user: k.str('the initiator\'s CHAP name', { required: true }),
    secret: k.str('its secret, 12-16 characters', { required: true }),
    target_user: k.str('mutual CHAP: the target\'s name'),
    target_secret: k.str('mutual CHAP: the target\'s secret, 12-16 characters'),
  },
};
const TARGET_SPEC: ObjSpec = {
  description: 'one iSCSI target',
  keys: {
    iqn: k.str('the target name (iqn.YYYY-MM.domain[:id], RFC 7143 4.2.7)', { required: true, example: 'iqn.2024-01.org.copylab:lab' }),
    alias: k.str('TargetAlias'),
    luns: k.list(k.anyOf([k.dev('the device, at LUN = its position'), k.obj(LUN_SPEC)], 'device path or { lun, dev }', 'a LUN'), ISCSI_SCENARIO_LIMITS.lunsPerTarget, 'the LUNs', { required: true, example: ['/dev/sda', '/dev/sdb'] }),
    initiators: k.list(k.str('an iSCSI name'), ISCSI_SCENARIO_LIMITS.initiators, 'initiators allowed to log in (default: any)'),
    chap: k.obj(CHAP_SPEC),
    discovery_auth: k.oneOf(DISCOVERY_AUTHS, 'discovery sessions: chap lists the target only to one that authenticated with its chap credentials (the default with chap); none lists it without (the default without chap)'),
    reach: k.list(k.str('array name'), ISCSI_SCENARIO_LIMITS.targets, 'gateway targets: arrays reachable for third-party copy (default none)'),
    token_scope: k.oneOf(TOKEN_SCOPES, 'gateway targets: who may use a ROD token (access: anyone who may read its LU; initiator: only its maker)', { default: 'access' }),
  },
};
export const ISCSI_SPEC: ObjSpec = {
  description: 'targets `copylab serve iscsi` exports (docs/iscsi.md)',
  keys: { targets: k.list(k.obj(TARGET_SPEC), ISCSI_SCENARIO_LIMITS.targets, 'the targets', { required: true }) },
};

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
  /** Discovery sessions: CHAP required to learn of the target (the default with `chap`), or not. */
  readonly discoveryAuth?: DiscoveryAuth;
  /** Arrays a gateway target's copy manager reaches besides its own (copy-access.ts); default none. */
  readonly reach?: readonly string[];
  readonly tokenScope?: TokenScope;
}

export interface IscsiSpec {
  readonly targets: readonly TargetSpec[];
}

export function parseIscsi(f: Field, devPath: (f: Field) => string): IscsiSpec | undefined {
  if (!f.present) return undefined;
  f.obj(ISCSI_SPEC);
  const seen = new Set<string>();
  const targets = f.key('targets').required().list(ISCSI_SCENARIO_LIMITS.targets).map((t) => {
    t.obj(TARGET_SPEC);
    const iqn = t.key('iqn').required().str();
    if (!validIscsiName(iqn)) t.key('iqn').fail('expected an iSCSI name (iqn.YYYY-MM.domain[:id], RFC 7143 4.2.7)');
    if (seen.has(iqn)) t.key('iqn').fail(`duplicate target ${iqn}`);
    seen.add(iqn);
    const lunSeen = new Set<number>();
    const luns = t.key('luns').required().list(ISCSI_SCENARIO_LIMITS.lunsPerTarget).map((l, i) => {
      let spec: LunSpec;
      if (typeof l.value === 'string') spec = { lun: i, dev: devPath(l) };
      else {
        l.obj(LUN_SPEC);
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
    if (t.key('reach').present) out.reach = t.key('reach').list(ISCSI_SCENARIO_LIMITS.targets).map((x) => x.str());
    if (t.key('token_scope').present) out.tokenScope = t.key('token_scope').oneOf(TOKEN_SCOPES);
    if (t.key('chap').present) {
      const c = t.key('chap');
      c.obj(CHAP_SPEC);
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
    if (t.key('discovery_auth').present) {
      out.discoveryAuth = t.key('discovery_auth').oneOf(DISCOVERY_AUTHS);
      if (out.discoveryAuth === 'chap' && !out.chap) t.key('discovery_auth').fail('chap needs the target\'s chap credentials (key chap)');
    }
    return out;
  });
  return { targets };
}

/** Resolves the spec against a built lab; throws RangeError naming the target and LUN. */
export function exportTargets(lab: Lab, spec: IscsiSpec): ExportedTarget[] {
  const out = spec.targets.map((t, i) => {
    if (!t.luns.length) throw new RangeError(`iscsi target ${t.iqn}: no LUNs`);
    const devs = t.luns.map((l) => {
      const d = lab.findDevice(l.dev);
      if (!d) throw new RangeError(`iscsi target ${t.iqn} LUN ${l.lun}: no block device ${l.dev}`);
      return d;
    });
    const fronted = frontedArray(t, devs);
    if (fronted && (t.reach || t.tokenScope)) throw new RangeError(`iscsi target ${t.iqn}: reach and token_scope of a target that fronts array ${fronted.name} are that array's (keys of its scsi device)`);
    const array = fronted ?? gatewayArray(lab, t, devs, i);
    return { iqn: t.iqn, array, luns: t.luns.map((l) => l.lun), ...(t.alias ? { alias: t.alias } : {}), ...(t.initiators ? { initiators: t.initiators } : {}), ...(t.chap ? { chap: t.chap } : {}), ...(t.discoveryAuth ? { discoveryAuth: t.discoveryAuth } : {}) };
  });
  const fabric = scsiFabricOf(lab);
  for (const t of spec.targets) for (const r of t.reach ?? []) if (!fabric.arrays.has(r)) throw new RangeError(`iscsi target ${t.iqn}: reach names no array ${r}`);
  return out;
}

/** The array whose sd disks the target exports at their own LUNs, or null. */
function frontedArray(t: TargetSpec, devs: readonly BlockDevice[]): ScsiArray | null {
  const first = devs[0];
  if (!(first instanceof SdDevice)) return null;
  const same = devs.every((d, k) => d instanceof SdDevice && d.array === first.array && d.lun === t.luns[k]!.lun);
  return same ? first.array : null;
}

/** An array of the target's own, one LU per device with the device as its medium. */
function gatewayArray(lab: Lab, t: TargetSpec, devs: readonly BlockDevice[], index: number): ScsiArray {
  const order = t.luns.map((l, k) => ({ lun: l.lun, dev: devs[k]! })).sort((a, b) => a.lun - b.lun);
  order.forEach((o, k) => {
    if (o.lun !== k) throw new RangeError(`iscsi target ${t.iqn} LUN ${o.lun}: a target that exports lab block devices numbers its LUNs 0..${order.length - 1}`);
    const lbs = o.dev.limits.logical_block_size;
    if (lbs !== 512 && lbs !== 4096) throw new RangeError(`iscsi target ${t.iqn} LUN ${o.lun}: ${o.dev.name} has ${lbs}-byte blocks; an LU has 512 or 4096`);
  });
  const fabric = scsiFabricOf(lab);
  let name = `iscsi${index}`;
  for (let n = 1; fabric.arrays.has(name); n++) name = `iscsi${index}.${n}`;
  const names = new Set<string>();
  return fabric.addArray({
    name,
    ...(t.reach ? { reach: t.reach } : {}),
    ...(t.tokenScope ? { tokenScope: t.tokenScope } : {}),
    lus: order.map((o) => {
      let lu = o.dev.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 28);
      while (names.has(lu)) lu = `${lu}_`;
      names.add(lu);
      const lbs = o.dev.limits.logical_block_size as 512 | 4096;
      return { name: lu, size: o.dev.capacity, lbs, block: { dev: o.dev, copy: (dst, ranges) => lab.copyRanges(dst, ranges) } };
    }),
  });
}
