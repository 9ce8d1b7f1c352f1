/**
 * sg3_utils (Debian's sg3-utils) as a peer for the SCSI model's bytes: the standard INQUIRY, every
 * VPD page the model serves and the sense data it answers with are written to ASCII hex files and
 * decoded by sg3_utils' own decoders (`sg_inq --inhex`, `sg_vpd --inhex`, `sg_decode_sense`), as a
 * user would; the decoded fields are asserted against the model's limits. sg3_utils 1.46's
 * sg_readcap has no --inhex, so READ CAPACITY (16) is decoded by libiscsi's iscsi-readcapacity16
 * against the same LU served over iSCSI. CI installs sg3-utils and libiscsi-bin; without them
 * this test fails and says so (it never skips).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScsiFabric, type ScsiArray } from '../../devices/scsi/array.js';
import * as b from '../../devices/scsi/build.js';
import { INQUIRY_PRODUCT, INQUIRY_REVISION, INQUIRY_VENDOR, Rod, Status, TpcOutSa, Vpd } from '../../devices/scsi/constants.js';
import { BLOCK_LIMITS } from '../../devices/scsi/sbc.js';
import { TPC_LIMITS } from '../../devices/scsi/tpc-limits.js';
import type { ScsiResult } from '../../devices/scsi/sense.js';
import { serve, unserve, type Served } from '../iscsi/fixture.js';

const HOST = 'iqn.2024-01.lab:host0';
const INSTALL = 'apt-get install -y --no-install-recommends sg3-utils libiscsi-bin';

/** Runs a peer tool; a missing tool fails the test with the install line. */
function tool(cmd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${cmd} is missing: the sg3_utils peer test needs Debian packages. ${INSTALL}`));
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

let dir = '';
let n = 0;
/** Writes bytes as an ASCII hex file (16 bytes a line, the layout sg3_utils' --inhex reads). */
function hexFile(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) lines.push([...bytes.subarray(i, i + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' '));
  const f = join(dir, `${++n}.hex`);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

/** Decodes bytes with an sg3_utils tool; the tool must succeed. */
async function decode(cmd: string, args: readonly string[], bytes: Uint8Array, flag = '--inhex='): Promise<string> {
  const r = await tool(cmd, [...args, `${flag}${hexFile(bytes)}`]);
  expect(r.code, `${cmd} ${args.join(' ')}: ${r.out}`).toBe(0);
  return r.out;
}

/** The decoded lines, trimmed, for exact-line assertions. */
const lines = (out: string): string[] => out.split('\n').map((l) => l.trim());

function answer(a: ScsiArray, cdb: Uint8Array, data?: Uint8Array, alloc = 4096, lun = 0): ScsiResult {
  return a.execute(HOST, lun, cdb, data, alloc);
}

function good(r: ScsiResult): Uint8Array {
  expect(r.status).toBe(Status.GOOD);
  return r.dataIn;
}

function checkCondition(r: ScsiResult): Uint8Array {
  expect(r.status).toBe(Status.CHECK_CONDITION);
  return r.senseData;
}

let a: ScsiArray;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'copylab-sg3-'));
  a = new ScsiFabric().addArray({ name: 'arr0', lus: [{ name: 'sda', size: 8 << 20 }, { name: 'sdb', size: 8 << 20 }] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sg3_utils peer: INQUIRY and VPD pages decoded by sg_inq / sg_vpd --inhex', () => {
  it('standard INQUIRY: SPC-4, disk, 3PC, HiSUP, CmdQue and the identification strings', async () => {
    const out = await decode('sg_inq', [], good(answer(a, b.inquiryCdb(null))));
    expect(out).toMatch(/PQual=0\s+PDT=0\b/);
    expect(out).toMatch(/version=0x06\s+\[SPC-4\]/);
    expect(out).toMatch(/HiSUP=1\s+Resp_data_format=2/);
    expect(out).toMatch(/\b3PC=1\b/);
    expect(out).toMatch(/\bCmdQue=1\b/);
    expect(out).toContain('Peripheral device type: disk');
    expect(out).toContain(`Vendor identification: ${INQUIRY_VENDOR}`);
    expect(out).toContain(`Product identification: ${INQUIRY_PRODUCT}`);
    expect(out).toContain(`Product revision level: ${INQUIRY_REVISION}`);
  });

  /** What sg_vpd must print for each page the model serves (one entry per served page). */
  const expected: Record<number, (o: string) => void> = {
    [Vpd.SUPPORTED_PAGES]: (o) => {
      for (const name of ['Supported VPD pages [sv]', 'Unit serial number [sn]', 'Device identification [di]', 'Third party copy [tpc]', 'Block limits (SBC) [bl]', 'Block device characteristics (SBC) [bdc]', 'Logical block provisioning (SBC) [lbpv]']) {
        expect(lines(o)).toContain(name);
      }
    },
    [Vpd.UNIT_SERIAL_NUMBER]: (o) => expect(lines(o)).toContain(`Unit serial number: ${a.lus[0]!.serial}`),
    [Vpd.DEVICE_IDENTIFICATION]: (o) => {
      expect(o).toMatch(/Addressed logical unit:\s+designator type: NAA,\s+code set: Binary/);
      expect(lines(o)).toContain(`0x${Buffer.from(a.lus[0]!.naa).toString('hex')}`);
      expect(lines(o)).toContain(`vendor id: ${INQUIRY_VENDOR.trimEnd()}`);
      expect(lines(o)).toContain(`vendor specific: ${a.lus[0]!.serial}`);
      expect(o).toMatch(/Target port:\s+designator type: Relative target port,\s+code set: Binary\s+Relative target port: 0x1/);
    },
    [Vpd.THIRD_PARTY_COPY]: (o) => {
      const l = lines(o);
      expect(l).toContain(`Maximum range descriptors: ${TPC_LIMITS.maxRangeDescriptors}`);
      expect(l).toContain(`Maximum inactivity timeout: ${TPC_LIMITS.maxInactivityTimeout} seconds`);
      expect(l).toContain(`Default inactivity timeout: ${TPC_LIMITS.defaultInactivityTimeout} seconds`);
      expect(l).toContain(`Maximum token transfer size: ${TPC_LIMITS.maxTokenBytes / 512}`);
      expect(l).toContain(`Optimal transfer count: ${TPC_LIMITS.chunkBytes / 512}`);
      for (const c of ['Extended copy(LID1)', 'Extended copy', 'Populate token', 'Write using token', 'Copy operation abort', 'Receive copy status(LID1)', 'Receive copy operating parameters', 'Receive copy failure details(LID1)', 'Receive copy status', 'Receive ROD token information', 'Report all ROD tokens']) {
        expect(l).toContain(c);
      }
      expect(l).toContain(`Maximum CSCD descriptor count: ${TPC_LIMITS.maxCscdDescriptors}`);
      expect(l).toContain(`Maximum segment descriptor count: ${TPC_LIMITS.maxSegmentDescriptors}`);
      expect(l).toContain(`Maximum descriptor list length: ${TPC_LIMITS.maxDescriptorListLength}`);
      expect(l).toContain(`Maximum inline data length: ${TPC_LIMITS.maxInlineData}`);
      expect(l).toContain('block -> block [0x2]');
      expect(l).toContain('CSCD: Identification Descriptor [0xe4]');
      // ROD Token Features: the lifetimes a token gets (rod-tokens.ts).
      expect(l).toContain('Remote tokens: 0');
      expect(l).toContain(`Minimum token lifetime: ${TPC_LIMITS.minInactivityTimeout} seconds`);
      expect(l).toContain(`Maximum token inactivity timeout: ${TPC_LIMITS.maxInactivityTimeout}`);
      expect(l).toContain(`Maximum Bytes in block ROD: ${TPC_LIMITS.maxTokenBytes}`);
      // The ROD types: the point-in-time token is made and taken, the zero token only taken.
      const rodTypes = o.slice(o.indexOf('Supported ROD token and ROD types:'), o.indexOf('General copy operations:'));
      expect(rodTypes).toMatch(/ROD type: point in time copy - change vulnerable \[0x800001\]\s+Internal: no\s+Token in: yes\s+Token out: yes/);
      expect(rodTypes).toMatch(/ROD type: block device zero \[0xffff0001\]\s+Internal: no\s+Token in: yes\s+Token out: no/);
      expect(l).toContain(`Total concurrent copies: ${TPC_LIMITS.totalConcurrentCopies}`);
      expect(l).toContain(`Maximum identified concurrent copies: ${TPC_LIMITS.maxConcurrentCopies}`);
      expect(l).toContain(`Maximum segment length: ${TPC_LIMITS.maxSegmentBytes}`);
      expect(l).toContain('Data segment granularity: 512');
    },
    [Vpd.BLOCK_LIMITS]: (o) => {
      const l = lines(o);
      expect(l).toContain('Write same non-zero (WSNZ): 0');
      expect(l).toContain(`Maximum compare and write length: ${BLOCK_LIMITS.maxCompareAndWriteBlocks} blocks`);
      expect(l).toContain(`Maximum transfer length: ${BLOCK_LIMITS.maxTransferBytes / 512} blocks`);
      expect(l).toContain(`Optimal transfer length: ${BLOCK_LIMITS.optimalTransferBytes / 512} blocks`);
      expect(l).toContain(`Maximum unmap LBA count: ${BLOCK_LIMITS.maxUnmapBlocks}`);
      expect(l).toContain(`Maximum unmap block descriptor count: ${BLOCK_LIMITS.maxUnmapDescriptors}`);
      expect(l).toContain('Optimal unmap granularity: 1 blocks');
      expect(l).toContain(`Maximum write same length: 0x${BLOCK_LIMITS.maxWriteSameBlocks.toString(16)} blocks`);
    },
    [Vpd.BLOCK_DEVICE_CHARACTERISTICS]: (o) => expect(lines(o)).toContain('Non-rotating medium (e.g. solid state)'),
    [Vpd.LOGICAL_BLOCK_PROVISIONING]: (o) => {
      const l = lines(o);
      for (const f of ['Unmap command supported (LBPU): 1', 'Write same (16) with unmap bit supported (LBPWS): 1', 'Write same (10) with unmap bit supported (LBPWS10): 1', 'Logical block provisioning read zeros (LBPRZ): 1', 'Provisioning type: 2 (thin provisioned)']) {
        expect(l).toContain(f);
      }
    },
  };

  it('every page in the Supported VPD pages page decodes, field by field', async () => {
    const served = [...good(answer(a, b.inquiryCdb(Vpd.SUPPORTED_PAGES, 4096))).subarray(4)];
    expect(served.length).toBeGreaterThan(0);
    for (const page of served) {
      const check = expected[page];
      if (!check) throw new Error(`VPD page ${page.toString(16)}h is served but not checked against sg_vpd`);
      const out = await decode('sg_vpd', [], good(answer(a, b.inquiryCdb(page, 4096))));
      expect(out, `page ${page.toString(16)}h`).not.toMatch(/not decoded|Unable to decode|unknown/i);
      check(out);
    }
  });
});

describe('sg3_utils peer: the CLI piped into sg_vpd and sg_inq as a user would', () => {
  it('copylab scsi vpd --raw | sg_vpd --inhex=- --raw, and copylab scsi inq --raw | sg_inq', async () => {
    const pipe = (cli: string[], peer: string[]): Promise<{ code: number; out: string }> =>
      tool('sh', ['-c', `"${process.execPath}" bin/copylab.js ${cli.join(' ')} | ${peer.join(' ')}`]);
    const vpd = await pipe(['scsi', 'vpd', '/dev/sda', '0x8f', '-s', 'examples/scsi-xcopy.yaml', '--raw'], ['sg_vpd', '--inhex=-', '--raw']);
    expect(vpd.code, vpd.out).toBe(0);
    expect(vpd.out).toMatch(/ROD type: point in time copy - change vulnerable \[0x800001\]\s+Internal: no\s+Token in: yes\s+Token out: yes/);
    expect(vpd.out).toMatch(/ROD type: block device zero \[0xffff0001\]\s+Internal: no\s+Token in: yes\s+Token out: no/);
    const inq = await pipe(['scsi', 'inq', '/dev/sda', '-s', 'examples/scsi-xcopy.yaml', '-r'], ['sg_inq', '--inhex=-', '--raw']);
    expect(inq.code, inq.out).toBe(0);
    expect(inq.out).toMatch(/\b3PC=1\b/);
    expect(inq.out).toContain(`Vendor identification: ${INQUIRY_VENDOR}`);
  });
});

describe('sg3_utils peer: sense data decoded by sg_decode_sense', () => {
  it('COPY ABORTED with the residual in INFORMATION and a segment pointer into the parameter list', async () => {
    const [sda, sdb] = [a.lus[0]!, a.lus[1]!];
    const unknown = b.e4Descriptor(new Uint8Array(16).fill(0x6a), 512); // names no LU of the array
    const list = b.xcopyLid1({
      listId: 3,
      cscds: [b.e4Descriptor(sda.naa, 512), b.e4Descriptor(sdb.naa, 512), unknown],
      segments: [b.b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 }), b.b2bSegment({ src: 0, dst: 2, blocks: 12, srcLba: 8, dstLba: 8 })],
    });
    const sense = checkCondition(answer(a, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), list));
    const out = await decode('sg_decode_sense', ['-v'], sense, '--file=');
    expect(out).toMatch(/Fixed format, current;\s+Sense key: Copy Aborted/);
    expect(out).toContain('Additional sense: Copy target device not reachable');
    expect(out).toMatch(/Info fld=0xc \[12\]/); // the 12 blocks of the failing segment not copied
    // The second segment's DESTINATION CSCD DESCRIPTOR INDEX: header 16 + three CSCDs 96 + segment 28 + 6.
    expect(out).toContain(`Segment pointer: Relative to start of parameter list, byte ${16 + 3 * 32 + 28 + 6}`);
    // sg3_utils 1.46 does not decode COMMAND-SPECIFIC INFORMATION of fixed sense; its raw dump
    // shows bytes 8-11 holding the failing segment's number (1).
    expect(out).toMatch(/f0 00 0a 00 00 00 0c 0a\s+00 00 00 01 0d 02 00 80/);
  });

  it('INVALID FIELD IN CDB with its field pointer', async () => {
    const sense = checkCondition(answer(a, new Uint8Array([0x12, 0, Vpd.DEVICE_IDENTIFICATION, 0, 0xff, 0]))); // a page code without EVPD
    const out = await decode('sg_decode_sense', [], sense, '--file=');
    expect(out).toMatch(/Sense key: Illegal Request/);
    expect(out).toContain('Additional sense: Invalid field in cdb');
    expect(out).toContain('Sense Key Specific: Error in Command: byte 2');
  });

  it('INVALID FIELD IN PARAMETER LIST: POPULATE TOKEN asking for the zero ROD type, which is TOKEN_IN only', async () => {
    const p = b.populateTokenList([{ lba: 0, blocks: 8 }], { rodType: Rod.TYPE_BLOCK_ZERO });
    const sense = checkCondition(answer(a, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, 1), p));
    const out = await decode('sg_decode_sense', [], sense, '--file=');
    expect(out).toContain('Additional sense: Invalid field in parameter list');
    expect(out).toContain('Sense Key Specific: Error in Data parameters: byte 8');
  });

  it('RESERVATION CONFLICT: a WRITE into an LU another initiator holds WRITE EXCLUSIVE, and EXTENDED COPY into it', async () => {
    const f = new ScsiFabric().addArray({ name: 'pr', lus: [{ name: 'x', size: 1 << 20 }, { name: 'y', size: 1 << 20 }] });
    const prOut = (who: string, sa: number, type: number, key: bigint, saKey: bigint): ScsiResult => {
      const p = new Uint8Array(24);
      new DataView(p.buffer).setBigUint64(0, key);
      new DataView(p.buffer).setBigUint64(8, saKey);
      return f.execute(who, 1, new Uint8Array([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]), p);
    };
    good(prOut('other', 0x00, 0, 0n, 0xabcn)); // REGISTER
    good(prOut('other', 0x01, 0x1, 0xabcn, 0n)); // RESERVE, WRITE EXCLUSIVE
    const write = f.execute(HOST, 1, b.rw16Cdb(true, 0, 1), new Uint8Array(512));
    const list = b.xcopyLid1({ cscds: [b.e4Descriptor(f.lus[0]!.naa, 512), b.e4Descriptor(f.lus[1]!.naa, 512)], segments: [b.b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 })] });
    const copy = f.execute(HOST, 0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), list);
    for (const r of [write, copy]) {
      expect(r.senseData.length).toBe(0); // RESERVATION CONFLICT carries no sense data (SAM-5 5.3.1)
      const d = await tool('sg_decode_sense', [`--status=${r.status.toString(16)}`]);
      expect(d.code).toBe(0);
      expect(lines(d.out)).toContain('SCSI status: Reservation Conflict');
    }
  });

  it('ROD token errors: unknown, revoked, wrong length, and a token for an LU the writer may not read', async () => {
    const f = new ScsiFabric().addArray({ name: 'acl', lus: [{ name: 's', size: 1 << 20 }, { name: 'd', size: 1 << 20 }], initiators: { [HOST]: [0, 1], guest: [1] } });
    const wut = (token: Uint8Array, who = HOST): ScsiResult => {
      const p = b.writeUsingTokenList(token, [{ lba: 0, blocks: 8 }]);
      return f.execute(who, 1, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, p.length, 2), p);
    };
    const populate = (listId: number): Uint8Array => {
      const p = b.populateTokenList([{ lba: 0, blocks: 8 }]);
      good(f.execute(HOST, 0, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, listId), p));
      return b.tokenFromRrti(good(f.execute(HOST, 0, b.tpcInCdb(0x07, listId), undefined, 1024)))!;
    };
    const token = populate(1);
    const forged = token.slice();
    forged[300]! ^= 1;
    const badLength = token.slice();
    badLength[7] = 0;
    const guest = wut(token, 'guest');
    const revoked = populate(2);
    good(f.execute(HOST, 0, b.rw16Cdb(true, 4, 1), new Uint8Array(512))); // a write to its source revokes it
    const cases: [string, ScsiResult, string, RegExp | null][] = [
      ['unknown', wut(forged), 'Invalid token operation, token unknown', null],
      ['revoked', wut(revoked), 'Invalid token operation, token revoked', null],
      ['wrong length', wut(badLength), 'Invalid token operation, invalid token length', null],
      ['not readable', guest, 'Access denied - no access rights', /Error in Data parameters: byte 16\b/],
    ];
    for (const [name, r, asc, sks] of cases) {
      const out = await decode('sg_decode_sense', [], checkCondition(r), '--file=');
      expect([name, out]).toEqual([name, expect.stringContaining('Sense key: Illegal Request')]);
      expect([name, out]).toEqual([name, expect.stringContaining(`Additional sense: ${asc}`)]);
      if (sks) expect([name, out]).toEqual([name, expect.stringMatching(sks)]);
    }
  });
});

describe('READ CAPACITY (16) decoded by libiscsi iscsi-readcapacity16 over iSCSI', () => {
  let served: Served;
  const IQN = 'iqn.2024-01.org.copylab:sg3';

  beforeAll(async () => {
    served = await serve(`
devices:
  - kind: scsi
    array: arr
    lus: [ { name: sda, size: 8MiB }, { name: sdc, size: 8MiB, lbs: 4096 } ]
iscsi:
  targets:
    - iqn: ${IQN}
      luns: [ /dev/sda, /dev/sdc ]
`);
  });

  afterAll(() => unserve(served, []));

  it('block count, block length and thin provisioning of a 512-byte and a 4096-byte LU', async () => {
    for (const [lun, lbs] of [[0, 512], [1, 4096]] as const) {
      const r = await tool('iscsi-readcapacity16', [`iscsi://127.0.0.1:${served.port}/${IQN}/${lun}`]);
      expect(r.code, r.out).toBe(0);
      const l = lines(r.out);
      expect(l).toContain(`RETURNED LOGICAL BLOCK ADDRESS:${(8 << 20) / lbs - 1}`);
      expect(l).toContain(`LOGICAL BLOCK LENGTH IN BYTES:${lbs}`);
      expect(l).toContain('P_TYPE:0 PROT_EN:0');
      expect(l).toContain('P_I_EXPONENT:0 LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT:0');
      expect(l).toContain('LBPME:1 LBPRZ:1');
      expect(l).toContain('LOWEST ALIGNED LOGICAL BLOCK ADDRESS:0');
      expect(l).toContain(`Total size:${8 << 20}`);
    }
  });
});
