/**
 * An iSCSI initiator that keeps many commands in flight on one session (the soak's load): a
 * one-PDU login (AuthMethod=None, ImmediateData=Yes), then SCSI commands tagged by ITT, each
 * resolved by its own Data-In/SCSI Response; Data-Out answers R2Ts; a Reject fails the command
 * it names. CmdSN stays inside the target's window (MaxCmdSN); callers bound their depth.
 */
import { connect, type Socket } from 'node:net';
import { Cmd, Data, FLAG_FINAL, Login, Off, Op, RESERVED_TAG, Rsp, Stage } from '../app/iscsi/constants.js';
import { PduReader, dataOutForR2t, encodePdu, newBhs, opcodeOf, type DigestState, type Pdu } from '../app/iscsi/pdu.js';
import { be16, be32, putBe32 } from '../core/util/bytes.js';
import { encodeText, parseText } from '../app/iscsi/text.js';

export interface Completion {
  readonly status: number;
  readonly sense: Uint8Array;
  readonly dataIn: Uint8Array;
}

interface Task {
  readonly resolve: (c: Completion) => void;
  readonly reject: (e: Error) => void;
  readonly dataOut: Uint8Array | null;
  readonly dataIn: Uint8Array | null;
  /** Data bytes the initiator sends at most (fault injection: a write whose Data-Out stops). */
  readonly sendLimit: number;
}

/** Data-Out PDU size when a write's data is cut short, so the cut falls inside a burst. */
const CUT_SEGMENT = 8192;

export class PipelinedInitiator {
  private readonly digests: DigestState = { header: false, data: false };
  private readonly reader = new PduReader(this.digests, () => 16 * 1024 * 1024, 1020);
  private readonly tasks = new Map<number, Task>();
  private loginWaiter: ((p: Pdu) => void) | null = null;
  private cmdSN = 1;
  private expStatSN = 0;
  private itt = 1;
  /** Immediate data a write may carry: the negotiated FirstBurstLength (RFC 7143 13.14). */
  private firstBurst = 0;
  closed = false;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => {
      for (const e of this.reader.push(new Uint8Array(c.buffer, c.byteOffset, c.length))) if (e.kind === 'pdu') this.onPdu(e.pdu);
    });
    sock.on('close', () => this.fail(new Error('connection closed')));
    sock.on('error', () => {});
  }

  static open(host: string, port: number): Promise<PipelinedInitiator> {
    return new Promise((res, rej) => {
      const s = connect(port, host, () => res(new PipelinedInitiator(s)));
      s.once('error', rej);
    });
  }

  private fail(e: Error): void {
    this.closed = true;
    for (const t of this.tasks.values()) t.reject(e);
    this.tasks.clear();
  }

  async login(initiator: string, target: string, isid: number): Promise<void> {
    const b = newBhs(Op.LOGIN_REQUEST | 0x40, Login.FLAG_TRANSIT | (Stage.SECURITY_NEGOTIATION << Login.CSG_SHIFT) | Stage.FULL_FEATURE_PHASE);
    b.set([0x80, 0, (isid >>> 16) & 0xff, (isid >>> 8) & 0xff, isid & 0xff, 0], Login.OFF_ISID);
    putBe32(b, Off.CMDSN, this.cmdSN);
    const text = encodeText([
      ['InitiatorName', initiator], ['TargetName', target], ['SessionType', 'Normal'], ['AuthMethod', 'None'],
      ['HeaderDigest', 'None'], ['DataDigest', 'None'], ['ImmediateData', 'Yes'], ['InitialR2T', 'No'],
      ['MaxBurstLength', '1048576'], ['FirstBurstLength', '262144'], ['MaxRecvDataSegmentLength', '262144'], ['MaxOutstandingR2T', '8'],
    ]);
    const reply = new Promise<Pdu>((res) => (this.loginWaiter = res));
    this.send(b, text);
    const r = await Promise.race([reply, new Promise<null>((res) => setTimeout(() => res(null), 10_000).unref())]);
    if (!r) throw new Error('login: no answer');
    const status = (r.bhs[Login.OFF_STATUS_CLASS]! << 8) | r.bhs[Login.OFF_STATUS_DETAIL]!;
    if (status !== 0 || (r.bhs[Off.FLAGS]! & Login.STAGE_MASK) !== Stage.FULL_FEATURE_PHASE) throw new Error(`login failed: status 0x${status.toString(16).padStart(4, '0')}`);
    this.expStatSN = (be32(r.bhs, Off.STATSN) + 1) >>> 0;
    const keys = new Map(parseText(r.data) ?? []);
    this.firstBurst = Math.min(262144, Number(keys.get('FirstBurstLength') ?? 65536), Number(keys.get('MaxRecvDataSegmentLength') ?? 8192));
  }

  private send(bhs: Uint8Array, data: Uint8Array = new Uint8Array(0)): void {
    for (const p of encodePdu(bhs, data, this.digests)) this.sock.write(p);
  }

  /**
   * Runs one command: `dataOut` for a write (immediate data up to the negotiated FirstBurstLength,
   * the rest on R2T), `readLength` for a read. `sendLimit` (fault injection): the write's data
   * stops after that many bytes, in Data-Out PDUs of 8 KiB; the task then waits for the rest,
   * which never comes, until the connection goes.
   */
  command(lun: number, cdb: Uint8Array, o: { dataOut?: Uint8Array; readLength?: number; sendLimit?: number }): Promise<Completion> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const out = o.dataOut ?? null;
    const edtl = out ? out.length : (o.readLength ?? 0);
    const itt = this.itt;
    this.itt = this.itt >= 0x7fffffff ? 1 : this.itt + 1;
    const b = newBhs(Op.SCSI_COMMAND, FLAG_FINAL | (out ? Cmd.FLAG_WRITE : edtl ? Cmd.FLAG_READ : 0) | 1);
    b[Off.LUN + 1] = lun;
    putBe32(b, Off.ITT, itt);
    putBe32(b, Cmd.OFF_EDTL, edtl);
    putBe32(b, Off.CMDSN, this.cmdSN);
    this.cmdSN = (this.cmdSN + 1) >>> 0;
    putBe32(b, Off.EXP_STATSN, this.expStatSN);
    b.set(cdb.subarray(0, 16), Cmd.OFF_CDB);
    const sendLimit = o.sendLimit ?? Infinity;
    return new Promise((resolve, reject) => {
      this.tasks.set(itt, { resolve, reject, dataOut: out, dataIn: !out && edtl ? new Uint8Array(edtl) : null, sendLimit });
      this.send(b, out ? out.subarray(0, Math.min(out.length, this.firstBurst, sendLimit)) : new Uint8Array(0));
    });
  }

  private onPdu(p: Pdu): void {
    const op = opcodeOf(p.bhs);
    if (op === Op.LOGIN_RESPONSE) {
      this.loginWaiter?.(p);
      this.loginWaiter = null;
      return;
    }
    if (op === Op.REJECT) {
      const itt = p.data.length >= 20 ? be32(p.data, Off.ITT) : RESERVED_TAG;
      const t = this.tasks.get(itt);
      this.tasks.delete(itt);
      t?.reject(new Error(`Reject, reason 0x${p.bhs[2]!.toString(16)}`));
      return;
    }
    const itt = be32(p.bhs, Off.ITT);
    const t = this.tasks.get(itt);
    if (!t) return;
    if (op === Op.R2T && t.dataOut) {
      const cut = t.sendLimit < t.dataOut.length;
      for (const d of dataOutForR2t(p.bhs, itt, this.expStatSN, t.dataOut, cut ? CUT_SEGMENT : 262144)) {
        if (be32(d.bhs, Data.OFF_BUFFER_OFFSET) + d.data.length > t.sendLimit) break;
        this.send(d.bhs, d.data);
      }
    } else if (op === Op.DATA_IN) {
      const off = be32(p.bhs, Data.OFF_BUFFER_OFFSET);
      if (t.dataIn && off + p.data.length <= t.dataIn.length) t.dataIn.set(p.data, off);
      if (p.bhs[Off.FLAGS]! & Data.FLAG_STATUS) {
        this.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
        this.tasks.delete(itt);
        t.resolve({ status: p.bhs[Data.OFF_STATUS]!, sense: new Uint8Array(0), dataIn: t.dataIn ?? new Uint8Array(0) });
      }
    } else if (op === Op.SCSI_RESPONSE) {
      this.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
      this.tasks.delete(itt);
      const sense = p.data.length >= 2 ? p.data.slice(2, 2 + be16(p.data, 0)) : new Uint8Array(0);
      t.resolve({ status: p.bhs[Rsp.OFF_STATUS]!, sense, dataIn: t.dataIn ?? new Uint8Array(0) });
    }
  }

  /** Drops the connection (no Logout): the target sees the socket close. */
  close(): void {
    this.sock.destroy();
  }
}
