/**
 * A small iSCSI initiator for tests (RFC 7143): login (None or CHAP), SCSI commands with
 * immediate data and R2T-solicited Data-Out, Data-In reassembly, raw PDUs for attacks.
 * It builds every PDU from the constants of src/app/iscsi/constants.ts, byte by byte.
 */
import { connect, type Socket } from 'node:net';
import { BHS_LENGTH, Cmd, Data, FLAG_FINAL, Login, Off, Op, RESERVED_TAG, Rsp, Stage } from '../../src/app/iscsi/constants.js';
import { PduReader, dataOutForR2t, encodePdu, newBhs, opcodeOf, type DigestState, type Pdu } from '../../src/app/iscsi/pdu.js';
import { be16, be32, putBe32 } from '../../src/core/util/bytes.js';
import { encodeText, parseText } from '../../src/app/iscsi/text.js';
import { chapResponse, decodeBinary, hex } from '../../src/app/iscsi/chap.js';

export interface LoginOptions {
  readonly initiator?: string;
  readonly target?: string;
  readonly discovery?: boolean;
  readonly chap?: { user: string; secret: string };
  readonly digests?: boolean;
  /** InitialR2T (default Yes): No lets unsolicited Data-Out follow a write, up to FirstBurstLength (65536). */
  readonly initialR2T?: boolean;
  readonly extraKeys?: readonly [string, string][];
}

export interface CommandResult {
  readonly status: number;
  readonly sense: Uint8Array;
  readonly dataIn: Uint8Array;
  readonly flags: number;
  readonly residual: number;
}

export class TestInitiator {
  readonly digests: DigestState = { header: false, data: false };
  private readonly reader = new PduReader(this.digests, () => 16 * 1024 * 1024, 1020);
  private queue: Pdu[] = [];
  private waiters: ((p: Pdu | null) => void)[] = [];
  closed = false;
  cmdSN = 1;
  expStatSN = 0;
  itt = 1;
  loginStatus = -1;
  keys = new Map<string, string>();

  private constructor(readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      for (const e of this.reader.push(new Uint8Array(c))) if (e.kind === 'pdu') this.deliver({ bhs: e.pdu.bhs.slice(), ahs: e.pdu.ahs.slice(), data: e.pdu.data.slice() });
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    sock.on('error', () => {});
  }

  static open(port: number): Promise<TestInitiator> {
    return new Promise((res, rej) => {
      const s = connect(port, '127.0.0.1', () => res(new TestInitiator(s)));
      s.once('error', rej);
    });
  }

  private deliver(p: Pdu): void {
    const w = this.waiters.shift();
    if (w) w(p);
    else this.queue.push(p);
  }

  /** The next PDU from the target, or null when the connection closed or `ms` passed. */
  next(ms = 3000): Promise<Pdu | null> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.closed) return Promise.resolve(null);
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        res(null);
      }, ms);
      const w = (p: Pdu | null): void => {
        clearTimeout(t);
        res(p);
      };
      this.waiters.push(w);
    });
  }

  sendRaw(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }

  send(bhs: Uint8Array, data: Uint8Array = new Uint8Array(0)): void {
    for (const p of encodePdu(bhs, data, this.digests)) this.sock.write(p);
  }

  private loginPdu(csg: number, nsg: number, transit: boolean, pairs: [string, string][]): Uint8Array {
    const b = newBhs(Op.LOGIN_REQUEST | 0x40, (transit ? Login.FLAG_TRANSIT : 0) | (csg << Login.CSG_SHIFT) | (transit ? nsg : 0));
    b.set([0x80, 0, 0, 0x12, 0x34, 0], Login.OFF_ISID);
    putBe32(b, Off.ITT, 0);
    putBe32(b, Off.CMDSN, this.cmdSN);
    putBe32(b, Off.EXP_STATSN, this.expStatSN);
    this.send(b, encodeText(pairs));
    return b;
  }

  private async loginReply(): Promise<Pdu | null> {
    const p = await this.next();
    if (!p || opcodeOf(p.bhs) !== Op.LOGIN_RESPONSE) return null;
    this.loginStatus = (p.bhs[Login.OFF_STATUS_CLASS]! << 8) | p.bhs[Login.OFF_STATUS_DETAIL]!;
    this.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
    for (const [k, v] of parseText(p.data) ?? []) this.keys.set(k, v);
    return p;
  }

  /** One login request/response exchange with the given keys (for tests of the login phase). */
  async loginExchange(csg: number, nsg: number, transit: boolean, pairs: [string, string][]): Promise<Pdu | null> {
    this.loginPdu(csg, nsg, transit, pairs);
    return this.loginReply();
  }

  /** Logs in; true when the full feature phase is reached. */
  async login(o: LoginOptions = {}): Promise<boolean> {
    const first: [string, string][] = [['InitiatorName', o.initiator ?? 'iqn.2024-01.org.copylab:test-initiator'], ['SessionType', o.discovery ? 'Discovery' : 'Normal']];
    if (!o.discovery) first.push(['TargetName', o.target ?? 'iqn.2024-01.org.copylab:lab']);
    if (o.chap) {
      this.loginPdu(Stage.SECURITY_NEGOTIATION, 0, false, [...first, ['AuthMethod', 'CHAP,None']]);
      if (!(await this.loginReply()) || this.loginStatus) return false;
      this.loginPdu(Stage.SECURITY_NEGOTIATION, 0, false, [['CHAP_A', '5']]);
      if (!(await this.loginReply()) || this.loginStatus) return false;
      const id = Number(this.keys.get('CHAP_I'));
      const ch = decodeBinary(this.keys.get('CHAP_C') ?? '')!;
      this.loginPdu(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [['CHAP_N', o.chap.user], ['CHAP_R', hex(chapResponse(id, o.chap.secret, ch))]]);
      if (!(await this.loginReply()) || this.loginStatus) return false;
    } else {
      this.loginPdu(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [...first, ['AuthMethod', 'None']]);
      if (!(await this.loginReply()) || this.loginStatus) return false;
    }
    const dig = o.digests ? 'CRC32C' : 'None';
    this.loginPdu(Stage.OPERATIONAL_NEGOTIATION, Stage.FULL_FEATURE_PHASE, true, [
      ['HeaderDigest', dig], ['DataDigest', dig], ['InitialR2T', o.initialR2T === false ? 'No' : 'Yes'], ['ImmediateData', 'Yes'], ['MaxBurstLength', '262144'],
      ['FirstBurstLength', '65536'], ['MaxRecvDataSegmentLength', '65536'], ['ErrorRecoveryLevel', '0'], ...(o.extraKeys ?? []),
    ]);
    const r = await this.loginReply();
    if (!r || this.loginStatus) return false;
    this.digests.header = this.keys.get('HeaderDigest') === 'CRC32C';
    this.digests.data = this.keys.get('DataDigest') === 'CRC32C';
    return (r.bhs[Off.FLAGS]! & Login.STAGE_MASK) === Stage.FULL_FEATURE_PHASE;
  }

  /** Builds a SCSI Command BHS (RFC 7143 11.3). */
  commandBhs(lun: number, cdb: Uint8Array, edtl: number, read: boolean, write: boolean): Uint8Array {
    const b = newBhs(Op.SCSI_COMMAND, FLAG_FINAL | (read ? Cmd.FLAG_READ : 0) | (write ? Cmd.FLAG_WRITE : 0) | 1);
    b[Off.LUN + 1] = lun;
    putBe32(b, Off.ITT, this.itt++);
    putBe32(b, Cmd.OFF_EDTL, edtl);
    putBe32(b, Off.CMDSN, this.cmdSN);
    this.cmdSN = (this.cmdSN + 1) >>> 0;
    putBe32(b, Off.EXP_STATSN, this.expStatSN);
    b.set(cdb.subarray(0, 16), Cmd.OFF_CDB);
    return b;
  }

  /** Runs one command to completion: immediate data, Data-Out on R2T, Data-In collected. */
  async command(lun: number, cdb: Uint8Array, o: { dataOut?: Uint8Array; readLength?: number } = {}): Promise<CommandResult> {
    const out = o.dataOut;
    const edtl = out ? out.length : (o.readLength ?? 0);
    const b = this.commandBhs(lun, cdb, edtl, !out && edtl > 0, !!out);
    const itt = be32(b, Off.ITT);
    const imm = out ? out.subarray(0, Math.min(out.length, 65536)) : new Uint8Array(0);
    this.send(b, imm);
    const chunks: { off: number; data: Uint8Array }[] = [];
    for (;;) {
      const p = await this.next(10000);
      if (!p) throw new Error('connection closed or timed out during a command');
      const op = opcodeOf(p.bhs);
      if (be32(p.bhs, Off.ITT) !== itt) continue;
      if (op === Op.R2T && out) {
        for (const d of dataOutForR2t(p.bhs, itt, this.expStatSN, out, 65536)) this.send(d.bhs, d.data);
      } else if (op === Op.DATA_IN) {
        chunks.push({ off: be32(p.bhs, Data.OFF_BUFFER_OFFSET), data: p.data });
        if (p.bhs[Off.FLAGS]! & Data.FLAG_STATUS) {
          this.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
          return { status: p.bhs[Data.OFF_STATUS]!, sense: new Uint8Array(0), dataIn: assemble(chunks), flags: p.bhs[Off.FLAGS]!, residual: be32(p.bhs, Data.OFF_RESIDUAL) };
        }
      } else if (op === Op.SCSI_RESPONSE) {
        this.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
        const sense = p.data.length >= 2 ? p.data.subarray(2, 2 + be16(p.data, 0)) : new Uint8Array(0);
        return { status: p.bhs[Rsp.OFF_STATUS]!, sense, dataIn: assemble(chunks), flags: p.bhs[Off.FLAGS]!, residual: be32(p.bhs, Rsp.OFF_RESIDUAL) };
      }
    }
  }

  /** NOP-Out ping (RFC 7143 11.18); resolves with the NOP-In or null. */
  async ping(data = new Uint8Array(0), immediate = true): Promise<Pdu | null> {
    const b = newBhs(Op.NOP_OUT | (immediate ? 0x40 : 0), FLAG_FINAL);
    putBe32(b, Off.ITT, this.itt++);
    putBe32(b, Off.TTT, RESERVED_TAG);
    putBe32(b, Off.CMDSN, this.cmdSN);
    if (!immediate) this.cmdSN = (this.cmdSN + 1) >>> 0;
    putBe32(b, Off.EXP_STATSN, this.expStatSN);
    this.send(b, data);
    for (;;) {
      const p = await this.next();
      if (!p || opcodeOf(p.bhs) === Op.NOP_IN) return p;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

function assemble(chunks: { off: number; data: Uint8Array }[]): Uint8Array {
  const len = chunks.reduce((m, c) => Math.max(m, c.off + c.data.length), 0);
  const out = new Uint8Array(len);
  for (const c of chunks) out.set(c.data, c.off);
  return out;
}

export { BHS_LENGTH };
