/**
 * CHAP authentication with MD5 (RFC 7143 12.1.3, RFC 1994): the target sends CHAP_A=5, an
 * identifier CHAP_I and a challenge CHAP_C; the initiator answers CHAP_N (its user name) and
 * CHAP_R = MD5(CHAP_I || secret || CHAP_C). Binary values are hex ("0x…") or base64 ("0b…")
 * (RFC 7143 6.1 binary-value). Mutual CHAP: the initiator's own CHAP_I/CHAP_C are answered with
 * the target's name and response.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { toHex } from '../../core/util/bytes.js';

/** CHAP_A value for MD5 (RFC 1994, IANA PPP authentication algorithms). */
export const CHAP_ALGORITHM_MD5 = 5;
/** Challenge length we send; RFC 7143 12.1.3 recommends at least the secret's strength. */
export const CHAP_CHALLENGE_LENGTH = 16;
/** Largest challenge/response we accept (RFC 7143 12.1.3: 1024 bytes binary). */
export const CHAP_MAX_BINARY = 1024;

export interface ChapConfig {
  /** Name and secret the initiator must prove. */
  readonly user: string;
  readonly secret: string;
  /** Mutual CHAP: the target's own name and secret. */
  readonly targetUser?: string;
  readonly targetSecret?: string;
}

export function decodeBinary(v: string): Uint8Array | null {
  let b: Buffer;
  if (/^0[xX][0-9a-fA-F]+$/.test(v)) {
    const hex = v.slice(2);
    b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  } else if (/^0[bB][A-Za-z0-9+/]+=*$/.test(v)) b = Buffer.from(v.slice(2), 'base64');
  else return null;
  return b.length > 0 && b.length <= CHAP_MAX_BINARY ? new Uint8Array(b) : null;
}

export function chapResponse(id: number, secret: string, challenge: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('md5').update(Uint8Array.of(id & 0xff)).update(Buffer.from(secret, 'utf8')).update(challenge).digest());
}

export const hex = (b: Uint8Array): string => `0x${toHex(b)}`;

export interface ChapChallenge {
  readonly id: number;
  readonly challenge: Uint8Array;
}

export function newChallenge(): ChapChallenge {
  const r = randomBytes(CHAP_CHALLENGE_LENGTH + 1);
  return { id: r[0]!, challenge: new Uint8Array(r.subarray(1)) };
}

export function verifyResponse(cfg: ChapConfig, ch: ChapChallenge, name: string, response: Uint8Array): boolean {
  if (name !== cfg.user) return false;
  const want = chapResponse(ch.id, cfg.secret, ch.challenge);
  return response.length === want.length && timingSafeEqual(response, want);
}
