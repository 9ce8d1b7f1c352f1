/**
 * The iSCSI target server (RFC 7143): listens on a portal, accepts connections, keeps the
 * sessions (TSIH, ISID, MaxConnections, reinstatement) and shuts down cleanly: stop accepting,
 * let commands in flight finish (bounded), then close every connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ISCSI_LIMITS, LoginStatus } from './constants.js';
import { Connection, type TargetHost } from './connection.js';
import { Session } from './session.js';
import { DEFAULT_PREFS, type TargetPrefs } from './params.js';
import type { LoginState } from './login.js';
import type { ExportedTarget } from './target-config.js';
import { DataOutBudget, PreLoginTable, admissionLimits, type AdmissionLimits } from './admission.js';

export interface IscsiTargetOptions {
  readonly targets: readonly ExportedTarget[];
  readonly prefs?: Partial<TargetPrefs>;
  /** Login timer, pre-login caps, the target-wide Data-Out budget, CHAP failure delay (admission.ts). */
  readonly admission?: Partial<AdmissionLimits>;
  /** Diagnostics (login failures, ignored commands); default: nothing. */
  readonly log?: (msg: string) => void;
}

export interface Portal {
  readonly host: string;
  readonly port: number;
}

/** Target portal group tag of our single portal group (RFC 7143 13.9). */
export const PORTAL_GROUP_TAG = 1;

export class IscsiTarget implements TargetHost {
  readonly prefs: TargetPrefs;
  readonly admission: AdmissionLimits;
  readonly dataOut: DataOutBudget;
  private readonly preLogin: PreLoginTable<Connection>;
  private readonly targets = new Map<string, ExportedTarget>();
  private readonly sessions = new Map<number, Session>();
  private readonly connections = new Set<Connection>();
  private server: Server | null = null;
  private nextTsih = 1;
  private readonly logFn: (msg: string) => void;

  constructor(o: IscsiTargetOptions) {
    this.prefs = { ...DEFAULT_PREFS, ...o.prefs };
    this.admission = admissionLimits(o.admission);
    this.dataOut = new DataOutBudget(this.admission.maxBufferedDataOutTotal);
    this.preLogin = new PreLoginTable(this.admission);
    for (const t of o.targets) {
      if (this.targets.has(t.iqn)) throw new RangeError(`target ${t.iqn} is defined twice`);
      this.targets.set(t.iqn, t);
    }
    this.logFn = o.log ?? (() => {});
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(portal: Portal): Promise<Portal> {
    return new Promise((resolve, reject) => {
      const srv = createServer((sock) => this.accept(sock));
      srv.maxConnections = ISCSI_LIMITS.maxConnections;
      srv.once('error', reject);
      srv.listen(portal.port, portal.host, () => {
        srv.off('error', reject);
        this.server = srv;
        const a = srv.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : portal);
      });
    });
  }

  private accept(sock: Socket): void {
    if (this.connections.size >= ISCSI_LIMITS.maxConnections) {
      sock.destroy();
      return;
    }
    const conn = new Connection(sock, this);
    this.connections.add(conn);
    // Unfinished logins are capped per host and in total: the oldest gives way (admission.ts).
    for (const old of this.preLogin.add(conn, sock.remoteAddress ?? '')) old.close('pre-login cap: evicted by a newer connection');
  }

  /** Connections that have not completed login. */
  get preLoginCount(): number {
    return this.preLogin.size;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Stops accepting, lets tasks in flight finish (up to graceMs), closes everything. */
  async close(graceMs = 2000): Promise<void> {
    const srv = this.server;
    this.server = null;
    const closed = srv ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve();
    await Promise.all([...this.connections].map((c) => c.shutdown(graceMs)));
    for (const c of this.connections) c.sock.destroy();
    await closed;
  }

  // ------------------------------------------------------------- TargetHost

  findTarget(iqn: string): ExportedTarget | undefined {
    return this.targets.get(iqn);
  }

  visibleTargets(initiator: string): ExportedTarget[] {
    return [...this.targets.values()].filter((t) => !t.initiators || t.initiators.includes(initiator));
  }

  portalOf(sock: Socket): string {
    const host = sock.localAddress ?? '127.0.0.1';
    const h = host.includes(':') && !host.startsWith('::ffff:') ? `[${host}]` : host.replace(/^::ffff:/, '');
    return `${h}:${sock.localPort ?? 3260},${PORTAL_GROUP_TAG}`;
  }

  bindSession(conn: Connection, st: LoginState, isid: string, tsih: number, cmdSN: number): Session | number {
    const target = st.sessionType === 'Discovery' ? null : st.target;
    if (tsih !== 0) {
      // A connection joining a session (RFC 7143 5.3.4), or reinstating one of its connections.
      const s = this.sessions.get(tsih);
      if (!s || s.isid !== isid || s.initiatorName !== st.initiatorName || s.target !== target) return LoginStatus.SESSION_DOES_NOT_EXIST;
      const same = [...s.connections].find((c) => c.cid === conn.cid);
      if (same) same.close('connection reinstatement');
      if (s.connections.size >= s.params.maxConnections) return LoginStatus.TOO_MANY_CONNECTIONS;
      s.connections.add(conn);
      return s;
    }
    // A new session; an old one of the same initiator port and target is reinstated (RFC 7143 6.3.5).
    for (const s of [...this.sessions.values()]) {
      if (s.isid === isid && s.initiatorName === st.initiatorName && s.target === target) this.endSession(s, 'session reinstatement');
    }
    if (this.sessions.size >= ISCSI_LIMITS.maxSessions) return LoginStatus.OUT_OF_RESOURCES;
    const id = this.allocTsih();
    if (id === 0) return LoginStatus.OUT_OF_RESOURCES;
    const s = new Session(id, isid, st.initiatorName, target, st.session, cmdSN);
    s.connections.add(conn);
    this.sessions.set(id, s);
    return s;
  }

  private allocTsih(): number {
    for (let i = 0; i < 0xffff; i++) {
      const t = this.nextTsih;
      this.nextTsih = this.nextTsih >= 0xffff ? 1 : this.nextTsih + 1;
      if (!this.sessions.has(t)) return t;
    }
    return 0;
  }

  private endSession(s: Session, reason: string): void {
    for (const c of [...s.connections]) c.close(reason);
    this.sessionEnded(s);
  }

  /** The I_T nexus is gone: the array forgets what it held for it (copy results). */
  private sessionEnded(s: Session): void {
    if (this.sessions.get(s.tsih) !== s) return;
    s.dropWaiting();
    this.sessions.delete(s.tsih);
    if (s.target && !this.sessionsOfInitiator(s.target, s.initiatorName)) s.target.array.nexusLoss(s.initiatorPort);
  }

  private sessionsOfInitiator(t: ExportedTarget, initiator: string): number {
    return [...this.sessions.values()].filter((x) => x.target === t && x.initiatorName === initiator).length;
  }

  sessionsOf(t: ExportedTarget): Session[] {
    return [...this.sessions.values()].filter((s) => s.target === t);
  }

  loginComplete(conn: Connection): void {
    this.preLogin.remove(conn);
  }

  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
    this.preLogin.remove(conn);
    const s = conn.session;
    // ErrorRecoveryLevel 0 with DefaultTime2Retain 0: the session ends with its last connection.
    if (s && s.connections.size === 0) this.sessionEnded(s);
  }

  log(msg: string): void {
    this.logFn(msg);
  }
}
