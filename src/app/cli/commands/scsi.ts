/**
 * `copylab scsi` in sg3_utils' style (sg_inq, sg_vpd, sg_readcap, sg_xcopy/ddpt, sg_copy_results,
 * sg_raw): one command against an sd disk of the lab built from --scenario (or the default lab).
 * Outside `copylab shell` the lab lives for one command, so tokens made by populate-token die
 * with it; inside the shell a later write-using-token can use them.
 */
import type { Command } from 'commander';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, notInLab, openLab, type LabHandle, type SetExit } from '../common.js';
import { SdDevice } from '../../../../devices/scsi/sd.js';
import * as b from '../../../../devices/scsi/build.js';
import { be16, be32, be64, parseHex, toHex } from '../../../core/util/bytes.js';
import { decodeSense, type ScsiResult } from '../../../../devices/scsi/sense.js';
import { SENSE_KEY_NAME, STATUS_NAME, TpcInSa, TpcOutSa } from '../../../../devices/scsi/constants.js';
import type { Lab } from '../../lab.js';
import { cliInt, U32, U64, U8, UsageError } from '../numbers.js';
import { SCSI_STEP_MAX_DATA } from '../../scenario/steps/scsi.js';

interface Common {
  scenario?: string;
  allowOutsidePaths?: boolean;
  json?: boolean;
  initiator?: string;
  /** The response bytes in binary on stdout (sg3_utils' --raw). */
  raw?: boolean;
}

function sdOf(lab: Lab, dev: string): SdDevice {
  const d = lab.findDevice(dev);
  if (!(d instanceof SdDevice)) throw new UsageError(notInLab(dev, lab, 'SCSI disk', (n) => lab.findDevice(n) instanceof SdDevice));
  return d;
}

function report(r: ScsiResult, o: Common, extra: Record<string, unknown>, text: () => string): number {
  const s = decodeSense(r.senseData);
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ status: r.status, status_name: STATUS_NAME[r.status] ?? null, sense: s, sense_hex: toHex(r.senseData), data_in_hex: toHex(r.dataIn), ...extra }, null, 2)}\n`);
  } else if (r.status !== 0) {
    process.stderr.write(`copylab scsi: ${STATUS_NAME[r.status] ?? r.status}${s ? `: ${SENSE_KEY_NAME[s.key] ?? s.key}, asc 0x${s.asc.toString(16).padStart(2, '0')} ascq 0x${s.ascq.toString(16).padStart(2, '0')}${s.information !== null ? `, information ${s.information}` : ''}${s.field !== null ? `, field pointer ${s.field}${s.cd ? ' (CDB)' : ' (parameter list)'}` : ''}` : ''}\n`);
  } else if (o.raw) process.stdout.write(r.dataIn);
  else process.stdout.write(text());
  return r.status === 0 ? EXIT_OK : EXIT_FAILED;
}

const hexdump = (d: Uint8Array): string => {
  const lines: string[] = [];
  for (let o = 0; o < d.length; o += 16) lines.push(`${o.toString(16).padStart(4, '0')}  ${toHex(d.subarray(o, o + 16)).replace(/(..)/g, '$1 ').trim()}`);
  return lines.join('\n') + (lines.length ? '\n' : '');
};

type Action = (lab: Lab, sd: SdDevice, o: Common & Record<string, unknown>, args: string[]) => number;

function run(setExit: SetExit, action: Action) {
  return async (...argv: unknown[]) => {
    const cmd = argv[argv.length - 1] as Command;
    const o = cmd.opts() as Common & Record<string, unknown>;
    const args = cmd.args;
    let h: LabHandle | undefined;
    try {
      h = openLab(o.scenario, o);
      const sd = sdOf(h.lab, args[0]!);
      setExit(action(h.lab, sd, o, args));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`copylab scsi: ${err.message}\n`);
      setExit(EXIT_USAGE);
    } finally {
      await h?.release();
    }
  };
}

const exec = (sd: SdDevice, o: Common, cdb: Uint8Array, out?: Uint8Array, alloc = 65536): ScsiResult => sd.array.execute(o.initiator ?? sd.initiator, sd.lun, cdb, out, alloc);
/** "lba:blocks" block device range descriptors (SBC-3 5.9: 64-bit LBA, 32-bit NUMBER OF LOGICAL BLOCKS). */
const ranges = (list: unknown): { lba: number; blocks: number }[] =>
  ((list as string[] | undefined) ?? []).map((r) => {
    const p = r.split(':');
    if (p.length !== 2) throw new UsageError(`--range: expected LBA:BLOCKS, got ${JSON.stringify(r)}`);
    return { lba: cliInt(p[0], '--range LBA', U64), blocks: cliInt(p[1], '--range blocks', U32) };
  });
/** Segments one xcopy command builds when the device does not report its limit. */
const XCOPY_DEFAULT_MAX_SEGMENTS = 256;

/** The copy manager's MAXIMUM SEGMENT DESCRIPTOR COUNT and MAXIMUM SEGMENT LENGTH (RECEIVE COPY OPERATING PARAMETERS), as sg_xcopy reads them. */
function copyLimits(sd: SdDevice, o: Common): { maxSegments: number; maxSegmentBytes: number } {
  const r = exec(sd, o, b.tpcInCdb(TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS), undefined, 1024);
  if (r.status !== 0 || r.dataIn.length < 20) return { maxSegments: XCOPY_DEFAULT_MAX_SEGMENTS, maxSegmentBytes: 0 };
  return { maxSegments: be16(r.dataIn, 10), maxSegmentBytes: be32(r.dataIn, 16) };
}
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerScsi(program: Command, setExit: SetExit): void {
  const scsi = program.command('scsi').description('send SCSI commands to a SCSI disk of the lab in sg3_utils style (default lab: /dev/sda, /dev/sdb)');
  const sub = (name: string, desc: string) =>
    allowOutsidePathsOption(scsi.command(name).description(desc).option('-s, --scenario <file>', 'scenario whose devices make up the lab (default: the default lab, `copylab lab`)')).option('--json', 'print status, sense and data as JSON').option('--initiator <name>', 'initiator name (default: the host\'s)');

  const RAW = 'output the response in binary (decode it with sg_inq/sg_vpd --inhex=FILE --raw)';
  sub('inq <dev>', 'standard INQUIRY data (sg_inq)').option('-r, --raw', RAW).action(run(setExit, (_l, sd, o) => {
    const r = exec(sd, o, b.inquiryCdb(null), undefined, 96);
    const d = r.dataIn;
    const ascii = (a: number, n: number) => Buffer.from(d.subarray(a, a + n)).toString('latin1').trim();
    const fields = r.status === 0 ? { vendor: ascii(8, 8), product: ascii(16, 16), revision: ascii(32, 4), version: d[2], threePc: (d[5]! & 0x08) !== 0, pdt: d[0]! & 0x1f } : {};
    return report(r, o, fields, () => `Vendor: ${fields.vendor}  Product: ${fields.product}  Revision: ${fields.revision}\nPDT=${fields.pdt}  VERSION=0x${(fields.version ?? 0).toString(16)}  3PC=${fields.threePc ? 1 : 0}\n`);
  }));

  sub('vpd <dev> [page]', 'a VPD page, hex dump (sg_vpd); page as 0x83 or 131, default 0x00').option('-r, --raw', RAW).action(run(setExit, (_l, sd, o, args) => {
    const page = args[1] === undefined ? 0 : cliInt(args[1], 'page', U8);
    const r = exec(sd, o, b.inquiryCdb(page, 4096), undefined, 4096);
    return report(r, o, { page }, () => hexdump(r.dataIn));
  }));

  sub('readcap <dev>', 'READ CAPACITY(16) (sg_readcap --16)').action(run(setExit, (_l, sd, o) => {
    const r = exec(sd, o, b.readCapacity16Cdb(), undefined, 32);
    const f = r.status === 0 ? { last_lba: be64(r.dataIn, 0), block_length: be32(r.dataIn, 8), lbpme: (r.dataIn[14]! & 0x80) !== 0, lbprz: (r.dataIn[14]! & 0x40) !== 0 } : {};
    return report(r, o, f, () => `Last LBA=${f.last_lba}  Logical block length=${f.block_length}\nLBPME=${f.lbpme ? 1 : 0}  LBPRZ=${f.lbprz ? 1 : 0}\nCapacity=${((f.last_lba ?? 0) + 1) * (f.block_length ?? 0)} bytes\n`);
  }));

  sub('xcopy <dev>', 'EXTENDED COPY(LID1) sent to dev: --segment SRC:LBA:DST:LBA:BLOCKS (repeatable; SRC/DST are devices)')
    .option('--segment <spec>', 'src_dev:src_lba:dst_dev:dst_lba:blocks', collect)
    .option('--list-id <n>', 'list identifier (held for rcr)', '0')
    .action(run(setExit, (lab, sd, o) => {
      const specs = (o.segment as string[] | undefined) ?? [];
      const devs: SdDevice[] = [];
      const idx = (name: string): number => {
        const d = sdOf(lab, name);
        let i = devs.indexOf(d);
        if (i < 0) i = devs.push(d) - 1;
        return i;
      };
      const listId = cliInt(o.listId, '--list-id', U8);
      const limits = copyLimits(sd, o);
      // A --segment longer than one descriptor can carry (16-bit block count, the device's maximum
      // segment length) becomes consecutive descriptors, as sg_xcopy splits a copy; never a truncated count.
      const segments: Uint8Array[] = [];
      for (const s of specs) {
        const p = s.split(':');
        if (p.length !== 5) throw new UsageError(`--segment: bad segment ${s} (want src:lba:dst:lba:blocks)`);
        const src = idx(p[0]!);
        const dst = idx(p[2]!);
        const srcLba = cliInt(p[1], '--segment source LBA', U64);
        const dstLba = cliInt(p[3], '--segment destination LBA', U64);
        const blocks = cliInt(p[4], '--segment blocks', U64);
        const lengths = { src: devs[src]!.limits.logical_block_size, dst: devs[dst]!.limits.logical_block_size };
        const maxBlocks = limits.maxSegmentBytes ? Math.floor(limits.maxSegmentBytes / lengths.src) : b.B2B_MAX_BLOCKS;
        const pieces = b.b2bSegmentCount(blocks, lengths, maxBlocks);
        if (segments.length + pieces > limits.maxSegments) {
          throw new UsageError(`--segment ${s}: ${blocks} blocks need ${pieces} segment descriptors (at most ${b.b2bBlocksPerSegment(lengths, maxBlocks)} blocks each); ${sd.name} takes at most ${limits.maxSegments} per EXTENDED COPY`);
        }
        segments.push(...b.b2bSegmentsSplit({ src, srcLba, dst, dstLba, blocks }, lengths, maxBlocks));
      }
      const list = b.xcopyLid1({ listId, cscds: devs.map((d) => b.e4Descriptor(d.array.lus[d.lun]!.naa, d.limits.logical_block_size)), segments });
      const r = exec(sd, o, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, segments.length ? list.length : 0), list);
      return report(r, o, { parameter_list_hex: toHex(list) }, () => `EXTENDED COPY: ${segments.length} segment(s), GOOD\n`);
    }));

  sub('populate-token <dev>', 'POPULATE TOKEN then RECEIVE ROD TOKEN INFORMATION; prints the token')
    .option('--range <lba:blocks>', 'source range (repeatable)', collect)
    .option('--list-id <n>', 'list identifier', '1')
    .option('--timeout <s>', 'inactivity timeout, seconds (0: default)', '0')
    .action(run(setExit, (_l, sd, o) => {
      const id = cliInt(o.listId, '--list-id', U32);
      const p = b.populateTokenList(ranges(o.range), { timeout: cliInt(o.timeout, '--timeout', U32) });
      const r = exec(sd, o, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, id), p);
      if (r.status !== 0) return report(r, o, {}, () => '');
      const info = exec(sd, o, b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, id), undefined, 1024);
      const token = b.tokenFromRrti(info.dataIn);
      return report(info, o, { token_hex: token ? toHex(token) : null }, () => `${token ? toHex(token) : ''}\n`);
    }));

  sub('write-using-token <dev>', 'WRITE USING TOKEN with --token HEX or --zero (the block device zero token)')
    .option('--token <hex>', 'the 512-byte ROD token')
    .option('--zero', 'use the block device zero ROD token')
    .option('--range <lba:blocks>', 'destination range (repeatable)', collect)
    .option('--offset <blocks>', 'offset into the ROD', '0')
    .option('--del-tkn', 'delete the token afterwards')
    .action(run(setExit, (_l, sd, o) => {
      const token = o.zero ? b.zeroRodToken() : parseHex(String(o.token ?? ''));
      if (!token || token.length !== 512) throw new UsageError('give --zero or --token with 512 bytes of hex');
      const p = b.writeUsingTokenList(token, ranges(o.range), { offset: cliInt(o.offset, '--offset', U64), delTkn: !!o.delTkn });
      const r = exec(sd, o, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, p.length, 1), p);
      return report(r, o, {}, () => 'WRITE USING TOKEN: GOOD\n');
    }));

  sub('rcr <dev>', 'RECEIVE COPY RESULTS (sg_copy_results): --params (default), --status, --failed, --status4')
    .option('--params', 'operating parameters')
    .option('--status', 'copy status (LID1)')
    .option('--failed', 'failure details (LID1)')
    .option('--status4', 'copy status (LID4)')
    .option('--list-id <n>', 'list identifier', '0')
    .action(run(setExit, (_l, sd, o) => {
      const sa = o.status ? TpcInSa.RECEIVE_COPY_STATUS_LID1 : o.failed ? TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1 : o.status4 ? TpcInSa.RECEIVE_COPY_STATUS_LID4 : TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS;
      // LID1 results name the list in one byte of the CDB, LID4 results in four.
      const lid1 = sa === TpcInSa.RECEIVE_COPY_STATUS_LID1 || sa === TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1;
      const r = exec(sd, o, b.tpcInCdb(sa, cliInt(o.listId, '--list-id', lid1 ? U8 : U32)), undefined, 1024);
      const d = r.dataIn;
      const f = r.status === 0 && sa === TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS
        ? { max_target_descriptors: be16(d, 8), max_segment_descriptors: be16(d, 10), max_descriptor_list_length: be32(d, 12), max_segment_length: be32(d, 16), implemented_descriptors: [...d.subarray(44, 44 + d[43]!)] }
        : {};
      return report(r, o, f, () => (sa === TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS ? Object.entries(f).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n' : hexdump(d)));
    }));

  sub('raw <dev> <cdb...>', 'send any CDB (sg_raw): bytes as hex')
    .option('--data-out <hex>', 'Data-Out bytes')
    .option('--alloc-len <n>', 'Data-In buffer length', '4096')
    .action(run(setExit, (_l, sd, o, args) => {
      const cdb = parseHex(args.slice(1).join(''));
      if (!cdb || cdb.length < 6 || cdb.length > 32) throw new UsageError('the CDB must be 6..32 bytes of hex');
      const out = o.dataOut !== undefined ? parseHex(String(o.dataOut)) : undefined;
      if (out === null) throw new UsageError('--data-out must be hex');
      const r = exec(sd, o, cdb, out, cliInt(o.allocLen, '--alloc-len', SCSI_STEP_MAX_DATA));
      return report(r, o, {}, () => (r.dataIn.length ? hexdump(r.dataIn) : 'GOOD\n'));
    }));
}
