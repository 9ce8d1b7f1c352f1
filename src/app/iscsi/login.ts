/**
 * The login phase of one connection (RFC 7143 6.x, 11.12-13): security negotiation (None or
 * CHAP), operational negotiation, then the step into the full feature phase, where a new
 * session is made or the connection joins an existing one (TSIH). Pure decisions over the
 * request; the connection sends what this returns.
 */
import { Login, LoginStatus, Stage, ISCSI_LIMITS } from './constants.js';
import { TEXT_LIMITS, type KeyValues } from './text.js';
import { discoveryChap, validIscsiName } from './target-config.js';
import { negotiateKey, defaultSessionParams, type ConnectionParams, type SessionParams, type TargetPrefs } from './params.js';
import { decodeBinary, hex, newChallenge, verifyResponse, chapResponse, CHAP_ALGORITHM_MD5, type ChapChallenge, type ChapConfig } from './chap.js';
import type { ExportedTarget } from './target-config.js';

export interface LoginState {
  first: boolean;
  initiatorName: string;
  targetName: string;
  sessionType: 'Normal' | 'Discovery';
  target: ExportedTarget | null;
  auth: 'none-yet' | 'none' | 'chap-offered' | 'chap-challenged' | 'done';
  chap: ChapChallenge | null;
  /** The initiator's CHAP response was wrong (the answer is delayed, admission.ts). */
  chapFailed: boolean;
  /**
   * Credentials the initiator may prove with CHAP: a normal session's target's; for a discovery
   * session, those of every target it may see that wants CHAP for discovery (target-config.ts).
   */
  chapCandidates: readonly ChapConfig[];
  /** CHAP is optional: a discovery session that may also see targets needing no authentication. */
  chapOptional: boolean;
  /** The candidates the initiator proved (a discovery session lists their targets). */
  chapProved: readonly ChapConfig[];
  /** Operational and security keys negotiated so far, across the login's PDUs (RFC 7143 6.2). */
  readonly negotiated: Set<string>;
  declaredMrdsl: boolean;
  sentTpgt: boolean;
  session: SessionParams;
  conn: ConnectionParams;
}

export function newLoginState(conn: ConnectionParams): LoginState {
  return {
    first: true, initiatorName: '', targetName: '', sessionType: 'Normal', target: null, auth: 'none-yet', chap: null,
    chapFailed: false, chapCandidates: [], chapOptional: false, chapProved: [], negotiated: new Set(), declaredMrdsl: false, sentTpgt: false, session: defaultSessionParams(), conn,
  };
}

export interface LoginStep {
  /** Non-zero: fail the login with this status class/detail. */
  readonly status: number;
  readonly answer: [string, string][];
  /** The stage the target moves to (when it agrees to the transit). */
  readonly transit: boolean;
  readonly nsg: number;
}

export interface LoginEnv {
  readonly findTarget: (iqn: string) => ExportedTarget | undefined;
  /** Targets an initiator may see (what a discovery session of it could list). */
  readonly discoveryTargets: (initiator: string) => readonly ExportedTarget[];
  readonly prefs: TargetPrefs;
}

/** Keys of the first request that identify the nexus; repeating one with the same value is harmless. */
const IDENTITY_KEYS: ReadonlySet<string> = new Set(['InitiatorName', 'TargetName', 'SessionType', 'InitiatorAlias']);

const fail = (status: number): LoginStep => ({ status, answer: [], transit: false, nsg: 0 });

/** Handles one complete login request (continuations already joined). */
export function loginStep(st: LoginState, csg: number, transitWanted: boolean, nsg: number, keys: KeyValues, env: LoginEnv): LoginStep {
  if (csg !== Stage.SECURITY_NEGOTIATION && csg !== Stage.OPERATIONAL_NEGOTIATION) return fail(LoginStatus.INITIATOR_ERROR);
  if (transitWanted && (nsg <= csg || nsg === 2)) return fail(LoginStatus.INITIATOR_ERROR);
  const kv = new Map<string, string>();
  for (const [k, v] of keys) {
    if (kv.has(k)) return fail(LoginStatus.INITIATOR_ERROR); // a key offered twice (RFC 7143 6.2)
    // Nor may a key be negotiated again in a later PDU of the login (RFC 7143 6.2: the target
    // answers Login reject, initiator error). The leading-only identity keys are compared below.
    if (!IDENTITY_KEYS.has(k)) {
      if (st.negotiated.has(k)) return fail(LoginStatus.INITIATOR_ERROR);
      if (st.negotiated.size >= TEXT_LIMITS.maxPairs) return fail(LoginStatus.INITIATOR_ERROR);
      st.negotiated.add(k);
    }
    kv.set(k, v);
  }
  const answer: [string, string][] = [];
  if (st.first) {
    st.first = false;
    const ini = kv.get('InitiatorName');
    if (!ini) return fail(LoginStatus.MISSING_PARAMETER);
    if (!validIscsiName(ini)) return fail(LoginStatus.INITIATOR_ERROR); // RFC 7143 4.2.7, RFC 3722
    st.initiatorName = ini;
    const type = kv.get('SessionType') ?? 'Normal';
    if (type !== 'Normal' && type !== 'Discovery') return fail(LoginStatus.SESSION_TYPE_NOT_SUPPORTED);
    st.sessionType = type;
    if (type === 'Normal') {
      const tn = kv.get('TargetName');
      if (!tn) return fail(LoginStatus.MISSING_PARAMETER);
      const t = env.findTarget(tn);
      if (!t) return fail(LoginStatus.NOT_FOUND);
      if (t.initiators && !t.initiators.includes(ini)) return fail(LoginStatus.AUTHORIZATION_FAILURE);
      st.targetName = tn;
      st.target = t;
      st.chapCandidates = t.chap ? [t.chap] : [];
    } else {
      // A discovery session follows the authentication of the targets it could list.
      const visible = env.discoveryTargets(ini);
      st.chapCandidates = visible.map(discoveryChap).filter((c): c is ChapConfig => c !== null);
      st.chapOptional = visible.some((t) => discoveryChap(t) === null);
    }
  } else if (kv.has('InitiatorName') || kv.has('TargetName') || kv.has('SessionType')) {
    // Leading-only keys may not change after the first request (RFC 7143 13.4, 13.21).
    if ((kv.get('InitiatorName') ?? st.initiatorName) !== st.initiatorName) return fail(LoginStatus.INITIATOR_ERROR);
  }
  const discovery = st.sessionType === 'Discovery';
  const chapCfgs = st.chapCandidates;

  for (const [k, v] of kv) {
    if (k === 'InitiatorName' || k === 'TargetName' || k === 'SessionType' || k === 'InitiatorAlias') continue;
    if (k === 'AuthMethod') {
      if (csg !== Stage.SECURITY_NEGOTIATION) return fail(LoginStatus.INITIATOR_ERROR);
      const offered = v.split(',');
      // The first of the initiator's values the target takes (RFC 7143 6.2): CHAP when there are
      // credentials to prove, None when nothing needs proving.
      const pick = offered.find((m) => (m === 'CHAP' && chapCfgs.length > 0) || (m === 'None' && (chapCfgs.length === 0 || st.chapOptional))) ?? null;
      if (!pick) return fail(LoginStatus.AUTHENTICATION_FAILURE);
      st.auth = pick === 'CHAP' ? 'chap-offered' : 'none';
      answer.push([k, pick]);
      continue;
    }
    if (k.startsWith('CHAP_')) {
      if (csg !== Stage.SECURITY_NEGOTIATION || chapCfgs.length === 0) return fail(LoginStatus.INITIATOR_ERROR);
      continue; // handled below as a group
    }
    const a = negotiateKey(k, v, st.session, st.conn, env.prefs, discovery);
    if (a !== null) answer.push([k, a]);
  }

  if (chapCfgs.length > 0 && csg === Stage.SECURITY_NEGOTIATION) {
    if (st.auth === 'chap-offered' && kv.has('CHAP_A')) {
      const algs = kv.get('CHAP_A')!.split(',');
      if (!algs.includes(String(CHAP_ALGORITHM_MD5))) return fail(LoginStatus.AUTHENTICATION_FAILURE);
      st.chap = newChallenge();
      st.auth = 'chap-challenged';
      answer.push(['CHAP_A', String(CHAP_ALGORITHM_MD5)], ['CHAP_I', String(st.chap.id)], ['CHAP_C', hex(st.chap.challenge)]);
    } else if (st.auth === 'chap-challenged' && (kv.has('CHAP_N') || kv.has('CHAP_R'))) {
      const name = kv.get('CHAP_N');
      const r = decodeBinary(kv.get('CHAP_R') ?? '');
      const proved = name === undefined || !r ? [] : chapCfgs.filter((cfg) => verifyResponse(cfg, st.chap!, name, r));
      if (!proved.length) {
        st.chapFailed = true;
        return fail(LoginStatus.AUTHENTICATION_FAILURE);
      }
      st.chapProved = proved;
      const chapCfg = proved.find((cfg) => cfg.targetUser && cfg.targetSecret) ?? proved[0]!;
      // Mutual CHAP: the initiator challenges the target (RFC 7143 12.1.3).
      if (kv.has('CHAP_I') || kv.has('CHAP_C')) {
        const id = Number(kv.get('CHAP_I'));
        const c = decodeBinary(kv.get('CHAP_C') ?? '');
        if (!chapCfg.targetUser || !chapCfg.targetSecret || !Number.isInteger(id) || id < 0 || id > 255 || !c) return fail(LoginStatus.AUTHENTICATION_FAILURE);
        // A reflected challenge is an attack (RFC 7143 12.1.3).
        if (Buffer.from(c).equals(Buffer.from(st.chap!.challenge))) return fail(LoginStatus.AUTHENTICATION_FAILURE);
        answer.push(['CHAP_N', chapCfg.targetUser], ['CHAP_R', hex(chapResponse(id, chapCfg.targetSecret, c))]);
      }
      st.auth = 'done';
    } else if (kv.has('CHAP_A') || kv.has('CHAP_N') || kv.has('CHAP_R')) {
      return fail(LoginStatus.INITIATOR_ERROR);
    }
  }

  // Leaving the security stage needs authentication done (RFC 7143 6.3).
  let transit = transitWanted;
  // CHAP must be done before the security stage ends when it is required, or optional and begun.
  const chapRequiredNow = chapCfgs.length > 0 && (!st.chapOptional || st.auth === 'chap-offered' || st.auth === 'chap-challenged');
  if (csg === Stage.SECURITY_NEGOTIATION) {
    if (chapRequiredNow && st.auth !== 'done') {
      if (transitWanted && st.auth !== 'chap-offered' && st.auth !== 'chap-challenged') return fail(LoginStatus.AUTHENTICATION_FAILURE);
      transit = false;
    } else if (st.auth === 'none-yet' && transitWanted) {
      st.auth = 'none';
    }
  } else if (chapRequiredNow && st.auth !== 'done') {
    // Skipping the security stage is not allowed when the target wants CHAP.
    return fail(LoginStatus.AUTHENTICATION_FAILURE);
  }
  if (csg === Stage.OPERATIONAL_NEGOTIATION || (transit && nsg === Stage.FULL_FEATURE_PHASE)) {
    if (!st.declaredMrdsl) {
      st.declaredMrdsl = true;
      answer.push(['MaxRecvDataSegmentLength', String(ISCSI_LIMITS.maxRecvDataSegmentLength)]);
    }
  }
  if (!discovery && !st.sentTpgt) {
    st.sentTpgt = true;
    answer.push(['TargetPortalGroupTag', '1']); // RFC 7143 13.9: sent in the first login response
  }
  return { status: LoginStatus.SUCCESS, answer, transit, nsg: transit ? nsg : csg };
}

/** Whether a discovery session's SendTargets lists the target: it needs no CHAP for discovery, or the session proved its credentials. */
export function discoveryListed(st: LoginState, t: ExportedTarget): boolean {
  const need = discoveryChap(t);
  return need === null || st.chapProved.includes(need);
}

export const loginFlags = (transit: boolean, csg: number, nsg: number): number =>
  (transit ? Login.FLAG_TRANSIT : 0) | (csg << Login.CSG_SHIFT) | (transit ? nsg : 0);
