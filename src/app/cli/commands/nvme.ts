/**
 * `copylab nvme id-ctrl|id-ns|copy|zone-report|zone-mgmt|passthru` in nvme-cli's style, against
 * the NVMe devices of a scenario (--scenario FILE) or of the default lab (nvme0: nvme0n1
 * conventional, nvme0n2 zoned). Outside `copylab shell` the lab lives for the one command.
 * Every subcommand takes --json.
 */
import type { Command } from 'commander';
import { nvmeController, type NvmeAttachment } from '../../../../devices/nvme/attach.js';
import { buildSqe, copyCdws, encodeRanges } from '../../../../devices/nvme/codec.js';
import { hexTextMax } from '../../scenario/steps/nvme.js';
import { PASSTHRU_MAX_BYTES } from '../../../../devices/nvme/host.js';
import { cliInt, cliIntList, U16, U32, U64, U8, UsageError } from '../numbers.js';
import {
  AdminOpc, Cns, Csi, ID_CTRL, ID_NS, ID_NS_ZNS, IDENTIFY_SIZE, IoOpc, statusName, ZONE_REPORT, ZONE_STATE_NAME, ZSA, ZMS_SELECT_ALL,
} from '../../../../devices/nvme/spec.js';
import type { PassthruResult } from '../../../../devices/nvme/host.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, notInLab, openLab, type LabHandle, type SetExit } from '../common.js';
import type { Lab } from '../../lab.js';
import { dataView, getAscii, le64, parseHex } from '../../../core/util/bytes.js';

interface Common { scenario?: string; json?: boolean; allowOutsidePaths?: boolean }

/** Most zones one zone-report asks for. */
const ZONE_REPORT_MAX_ZONES = 1024;
/** Zone Receive Action Specific Field values (list all, empty, implicitly/explicitly open, closed, full, read only, offline). */
const ZRASF_MAX = 7;

const isNvme = (n: string): boolean => /^nvme\d+n\d+$/.test(n);

function open(dev: string, opts: Common): { h: LabHandle; att: NvmeAttachment; nsid: number } | string {
  const h = openLab(opts.scenario, opts);
  const m = /^(?:\/dev\/)?(nvme\d+)(?:n(\d+))?$/.exec(dev);
  const att = m ? nvmeController(h.lab, m[1]!) : undefined;
  if (!m || !att || (m[2] && !h.lab.findDevice(`${m[1]}n${m[2]}`))) {
    const message = `${notInLab(dev, h.lab, 'NVMe namespace', isNvme)}${m ? '' : ' (a controller is /dev/nvmeN, a namespace /dev/nvmeNnM)'}`;
    void h.release();
    return message;
  }
  return { h, att, nsid: m[2] ? Number(m[2]) : 0 };
}

function out(opts: Common, json: unknown, text: string): void {
  process.stdout.write(opts.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');
}

function statusExit(r: PassthruResult, hint?: string): number {
  if (r.status !== 0) process.stderr.write(`NVMe status: ${r.status < 0 ? `host error ${r.status}` : statusName(r.status)}${hint ? `\n${hint}` : ''}\n`);
  return r.status === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Status Code Type 0, Invalid Command Opcode / Invalid Field in Command (NVMe base spec 4.1.3.1, fig. 101). */
const SC_INVALID_OPCODE = 0x0001;
const SC_INVALID_FIELD = 0x0002;

/** A zoned namespace of the lab answers Report Zones; any other answers Invalid Opcode: say so. */
function zonedHint(lab: Lab, ctrl: string, nsid: number): string | undefined {
  const ns = `${ctrl}n${nsid}`;
  if (lab.readSysfs(`/sys/block/${ns}/queue/zoned`).value?.trim() !== 'none') return undefined;
  const zoned = lab.list().filter((d) => isNvme(d.name) && d.limits.zoned !== 'none').map((d) => `/dev/${d.name}`);
  return `/dev/${ns} is not a zoned namespace; zone commands need one (${zoned.length ? `zoned namespaces of this lab: ${zoned.join(', ')}` : 'this lab has none: add `zoned: true` to a namespace of the scenario'})`;
}

/** Why a Copy got Invalid Field, and the scenario key that changes it. */
function copyHint(lab: Lab, ctrl: string, format: number, status: number): string | undefined {
  if (status !== SC_INVALID_FIELD) return undefined;
  const ocfs = lab.readSysfs(`/sys/class/nvme/${ctrl}/ocfs`);
  if (format >= 2) return `Copy descriptor format ${format} (cross-namespace) needs the host to enable it (Host Behavior Support CDFE): set \`cdfe: true\` on ${ctrl} in the scenario, or send Set Features 0x16 first`;
  return ocfs.res === 0 ? `format ${format} is not among the controller's Copy formats (OCFS ${ocfs.value?.trim()}): see \`copy_formats\`` : `format ${format} is not among the controller's Copy formats (\`copy_formats\`)`;
}

async function identify(att: NvmeAttachment, cns: number, nsid = 0, csi = 0): Promise<PassthruResult> {
  return att.host.passthru({ admin: true, cmd: buildSqe({ opcode: AdminOpc.IDENTIFY, nsid, cdw: { 10: cns, 11: csi << 24 } }), dataLen: IDENTIFY_SIZE });
}

function action(setExit: SetExit, fn: (dev: string, opts: Common & Record<string, string | boolean | undefined>, lab: Lab, att: NvmeAttachment, nsid: number) => Promise<number>) {
  return async (dev: string, opts: Common & Record<string, string | boolean | undefined>) => {
    let res: ReturnType<typeof open>;
    try {
      res = open(dev, opts);
    } catch (err) {
      process.stderr.write(`copylab: ${(err as Error).message}\n`);
      return setExit(EXIT_USAGE);
    }
    if (typeof res === 'string') {
      process.stderr.write(`copylab: ${res}\n`);
      return setExit(EXIT_USAGE);
    }
    try {
      setExit(await fn(dev, opts, res.h.lab, res.att, res.nsid));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`copylab nvme: ${err.message}\n`);
      setExit(EXIT_USAGE);
    } finally {
      await res.h.release();
    }
  };
}

export function registerNvme(program: Command, setExit: SetExit): void {
  const nvme = program.command('nvme').description('NVMe tools in nvme-cli style over the NVMe devices of --scenario (default: the default lab\'s nvme0: nvme0n1 conventional, nvme0n2 zoned)');
  const common = (c: Command) => allowOutsidePathsOption(c.option('--scenario <file>', 'scenario whose devices make up the lab (default: the default lab, `copylab lab`)')).option('--json', 'print JSON');

  common(nvme.command('id-ctrl <dev>').description('Identify Controller')).action(
    action(setExit, async (_d, opts, _lab, att) => {
      const r = await identify(att, Cns.CTRL);
      if (r.status || !r.data) return statusExit(r);
      const b = r.data;
      const v = dataView(b);
      const j = {
        sn: getAscii(b, ID_CTRL.SN, ID_CTRL.SN_LEN), mn: getAscii(b, ID_CTRL.MN, ID_CTRL.MN_LEN), fr: getAscii(b, ID_CTRL.FR, ID_CTRL.FR_LEN),
        cntlid: v.getUint16(ID_CTRL.CNTLID, true), ver: v.getUint32(ID_CTRL.VER, true), mdts: v.getUint8(ID_CTRL.MDTS),
        nn: v.getUint32(ID_CTRL.NN, true), oncs: v.getUint16(ID_CTRL.ONCS, true), ocfs: v.getUint16(ID_CTRL.OCFS, true),
        subnqn: new TextDecoder().decode(b.subarray(ID_CTRL.SUBNQN, ID_CTRL.SUBNQN + 256)).replace(/\0+$/, ''),
      };
      out(opts, j, Object.entries(j).map(([k, val]) => `${k.padEnd(9)}: ${typeof val === 'number' && k !== 'cntlid' && k !== 'nn' && k !== 'mdts' ? '0x' + val.toString(16) : val}`).join('\n'));
      return EXIT_OK;
    }),
  );

  common(nvme.command('id-ns <dev>').description('Identify Namespace (with the ZNS data of a zoned namespace)').option('-n, --namespace-id <nsid>', 'namespace')).action(
    action(setExit, async (_d, opts, _lab, att, devNsid) => {
      const nsid = opts['namespaceId'] ? cliInt(opts['namespaceId'], '--namespace-id', U32) : devNsid;
      const r = await identify(att, Cns.NS, nsid);
      if (r.status || !r.data) return statusExit(r);
      const v = dataView(r.data);
      const flbas = v.getUint8(ID_NS.FLBAS) & 0xf;
      const j: Record<string, number> = {
        nsze: le64(r.data, ID_NS.NSZE), ncap: le64(r.data, ID_NS.NCAP), nuse: le64(r.data, ID_NS.NUSE), nlbaf: v.getUint8(ID_NS.NLBAF), flbas,
        mssrl: v.getUint16(ID_NS.MSSRL, true), mcl: v.getUint32(ID_NS.MCL, true), msrc: v.getUint8(ID_NS.MSRC),
        lbads: (v.getUint32(ID_NS.LBAF0 + 4 * flbas, true) >>> 16) & 0xff,
      };
      const z = await identify(att, Cns.CSI_NS, nsid, Csi.ZNS);
      if (z.status === 0 && z.data) {
        const zv = dataView(z.data);
        j['mar'] = zv.getUint32(ID_NS_ZNS.MAR, true);
        j['mor'] = zv.getUint32(ID_NS_ZNS.MOR, true);
        j['zsze'] = le64(z.data, ID_NS_ZNS.LBAFE0 + ID_NS_ZNS.LBAFE_SIZE * flbas);
      }
      out(opts, j, Object.entries(j).map(([k, val]) => `${k.padEnd(6)}: ${val}`).join('\n'));
      return EXIT_OK;
    }),
  );

  common(
    nvme.command('copy <dev>').description('Copy (nvme-cli options; --blocks are 0-based as nvme-cli takes them)')
      .requiredOption('-d, --sdlba <lba>', 'destination start LBA')
      .requiredOption('-s, --slbs <list>', 'source start LBAs, comma separated')
      .requiredOption('-b, --blocks <list>', 'blocks per range, 0-based, comma separated')
      .option('-N, --snsids <list>', 'source namespaces (formats 2/3)')
      .option('-F, --format <n>', 'descriptor format 0..3', '0')
      .option('-f, --force-unit-access', 'FUA')
      .option('-n, --namespace-id <nsid>', 'destination namespace'),
  ).action(
    action(setExit, async (_d, opts, _lab, att, devNsid) => {
      const nsid = opts['namespaceId'] ? cliInt(opts['namespaceId'], '--namespace-id', U32) : devNsid;
      const slbs = cliIntList(String(opts['slbs']), '--slbs', U64);
      // NLB is a 16-bit 0-based field in every source range format (NVM Command Set 3.3.1).
      const blocks = cliIntList(String(opts['blocks']), '--blocks', U16);
      const snsids = cliIntList(opts['snsids'] as string | undefined, '--snsids', U32);
      const format = cliInt(opts['format'], '--format', 3);
      if (slbs.length !== blocks.length || (snsids.length && snsids.length !== slbs.length)) throw new UsageError('--slbs, --blocks (and --snsids) must have the same number of entries');
      // NR is an 8-bit 0-based field: 1..256 ranges.
      if (slbs.length === 0 || slbs.length > 256) throw new UsageError('--slbs: 1..256 ranges');
      const ranges = slbs.map((slba, i) => ({ slba, nlb: blocks[i]! + 1, snsid: snsids[i] ?? nsid }));
      const cdw = copyCdws({ sdlba: cliInt(opts['sdlba'], '--sdlba', U64), nr: ranges.length, format, fua: !!opts['forceUnitAccess'] });
      const r = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.COPY, nsid, cdw }), data: encodeRanges(format, ranges) });
      const hint = copyHint(_lab, att.name, format, r.status);
      out(opts, { status: r.status, status_name: statusName(r.status), dw0: r.dw0, ...(hint ? { hint } : {}) }, r.status === 0 ? 'NVMe Copy: success' : `NVMe Copy: ${statusName(r.status)}, ranges copied ${r.dw0}${hint ? `\n${hint}` : ''}`);
      return r.status === 0 ? EXIT_OK : EXIT_FAILED;
    }),
  );

  common(nvme.command('zone-report <dev>').description('Report Zones').option('--slba <lba>', 'start LBA', '0').option('-d, --zones <n>', 'zones to report', '16').option('--state <n>', 'ZRASF filter 0..7', '0')).action(
    action(setExit, async (_d, opts, lab, att, nsid) => {
      const n = cliInt(opts['zones'], '--zones', ZONE_REPORT_MAX_ZONES);
      const len = ZONE_REPORT.HEADER + n * ZONE_REPORT.DESC;
      const slba = cliInt(opts['slba'], '--slba', U64);
      const zrasf = cliInt(opts['state'], '--state', ZRASF_MAX);
      const r = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_RECV, nsid, cdw: { 10: slba >>> 0, 11: Math.floor(slba / 2 ** 32), 12: len / 4 - 1, 13: zrasf << 8 } }), dataLen: len });
      if (r.status || !r.data) return statusExit(r, r.status === SC_INVALID_OPCODE ? zonedHint(lab, att.name, nsid) : undefined);
      const v = dataView(r.data);
      const nr = le64(r.data, 0);
      const zones = [];
      for (let i = 0; i < Math.min(nr, n); i++) {
        const o = ZONE_REPORT.HEADER + i * ZONE_REPORT.DESC;
        const wp = le64(r.data, o + ZONE_REPORT.WP);
        zones.push({ slba: le64(r.data, o + ZONE_REPORT.ZSLBA), wp: wp >= 2 ** 64 - 4096 ? null : wp, cap: le64(r.data, o + ZONE_REPORT.ZCAP), state: ZONE_STATE_NAME[v.getUint8(o + 1) >> 4] ?? '?', type: 'SEQWRITE_REQ' });
      }
      out(opts, { nr_zones: nr, zones }, [`nr_zones: ${nr}`, ...zones.map((z) => `SLBA: 0x${z.slba.toString(16).padStart(8, '0')} WP: ${z.wp === null ? '-'.padEnd(10) : '0x' + z.wp.toString(16).padStart(8, '0')} Cap: 0x${z.cap.toString(16)} State: ${z.state.padEnd(10)} Type: ${z.type}`)].join('\n'));
      return EXIT_OK;
    }),
  );

  common(nvme.command('zone-mgmt <dev>').description('Zone Management Send').requiredOption('-a, --action <name>', 'open, close, finish, reset, offline').option('--slba <lba>', 'zone start LBA', '0').option('--select-all', 'all zones the action applies to')).action(
    action(setExit, async (_d, opts, _lab, att, nsid) => {
      const names: Record<string, number> = { open: ZSA.OPEN, close: ZSA.CLOSE, finish: ZSA.FINISH, reset: ZSA.RESET, offline: ZSA.OFFLINE };
      const zsa = names[String(opts['action'])];
      if (zsa === undefined) throw new UsageError(`--action must be one of ${Object.keys(names).join(', ')}`);
      const slba = cliInt(opts['slba'], '--slba', U64);
      const r = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_SEND, nsid, cdw: { 10: slba >>> 0, 11: Math.floor(slba / 2 ** 32), 13: zsa | (opts['selectAll'] ? ZMS_SELECT_ALL : 0) } }) });
      out(opts, { status: r.status, status_name: statusName(r.status) }, `zone-mgmt ${String(opts['action'])}: ${statusName(r.status)}`);
      return r.status === 0 ? EXIT_OK : EXIT_FAILED;
    }),
  );

  const pt = nvme.command('passthru <dev>').description('a raw command (io-passthru; --admin for admin-passthru)').requiredOption('-o, --opcode <op>', 'opcode').option('--admin', 'admin queue')
    .option('-n, --namespace-id <nsid>', 'NSID').option('-l, --data-len <n>', 'controller-to-host length').option('--data-hex <hex>', 'host-to-controller data');
  for (let i = 2; i <= 15; i++) if (i < 4 || i > 9) pt.option(`--cdw${i} <v>`, `command dword ${i}`);
  common(pt).action(
    action(setExit, async (_d, opts, _lab, att, devNsid) => {
      const cdw: Record<number, number> = {};
      for (let i = 2; i <= 15; i++) if (opts[`cdw${i}`] !== undefined) cdw[i] = cliInt(opts[`cdw${i}`], `--cdw${i}`, U32);
      const opcode = cliInt(opts['opcode'], '--opcode', U8);
      const nsid = opts['namespaceId'] ? cliInt(opts['namespaceId'], '--namespace-id', U32) : devNsid;
      const dataLen = opts['dataLen'] ? cliInt(opts['dataLen'], '--data-len', PASSTHRU_MAX_BYTES) : undefined;
      const dataText = opts['dataHex'] ? String(opts['dataHex']) : undefined;
      if (dataText !== undefined && dataText.length > hexTextMax(PASSTHRU_MAX_BYTES)) throw new UsageError(`--data-hex: at most ${PASSTHRU_MAX_BYTES} bytes`);
      const data = dataText !== undefined ? parseHex(dataText) : undefined;
      if (dataText !== undefined && !data) throw new UsageError('--data-hex: not hex bytes');
      if (data && data.length > PASSTHRU_MAX_BYTES) throw new UsageError(`--data-hex: at most ${PASSTHRU_MAX_BYTES} bytes`);
      const r = await att.host.passthru({
        admin: !!opts['admin'],
        cmd: buildSqe({ opcode, nsid, cdw }),
        ...(data ? { data } : {}),
        ...(dataLen !== undefined ? { dataLen } : {}),
      });
      const hex = r.data ? Buffer.from(r.data).toString('hex') : undefined;
      out(opts, { status: r.status, status_name: r.status < 0 ? null : statusName(r.status), dw0: r.dw0, dw1: r.dw1, ...(hex ? { data_hex: hex } : {}) },
        `NVMe command result: ${r.status < 0 ? r.status : statusName(r.status)} dw0 0x${r.dw0.toString(16)} dw1 0x${r.dw1.toString(16)}${hex ? `\n${hex.slice(0, 512)}` : ''}`);
      return r.status === 0 ? EXIT_OK : EXIT_FAILED;
    }),
  );
}
