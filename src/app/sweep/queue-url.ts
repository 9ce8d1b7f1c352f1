/**
 * The queue a distributed sweep runs on: `redis://[user:pass@]HOST:PORT[/db]` or `rediss://` for
 * TLS (docs/sweeps.md). The URL is checked before anything connects; a refusal is one line that
 * never repeats the password.
 */

/** Longest queue URL (a limit on everything). */
export const QUEUE_URL_MAX_CHARS = 1024;
/** Highest Redis database number accepted in the URL's path. */
export const QUEUE_MAX_DB = 255;
const DEFAULT_PORT = 6379;

export class QueueUrlError extends Error {}

/** How to reach the queue's Redis (ioredis options) and how to name it in messages. */
export interface QueueTarget {
  /** The URL without its password, for messages and logs. */
  readonly display: string;
  readonly connection: {
    readonly host: string;
    readonly port: number;
    readonly db: number;
    readonly username?: string;
    readonly password?: string;
    readonly tls?: { readonly servername: string };
  };
}

export function parseQueueUrl(text: string): QueueTarget {
  const bad = (why: string): never => {
    throw new QueueUrlError(`--queue: ${why} (expected redis://[user:password@]HOST:PORT[/db] or rediss:// for TLS)`);
  };
  if (text.length > QUEUE_URL_MAX_CHARS) bad(`the URL is longer than ${QUEUE_URL_MAX_CHARS} characters`);
  if (/[\s\x00-\x1f\x7f]/.test(text)) bad('the URL holds a space or control character');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return bad(`not a URL: "${redact(text)}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') bad(`unsupported scheme "${u.protocol.slice(0, 16)}"`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!host) bad('no host');
  if (u.search || u.hash) bad('a query or fragment is not supported');
  const port = u.port === '' ? DEFAULT_PORT : Number(u.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) bad(`bad port "${u.port}"`);
  const path = u.pathname.replace(/^\//, '');
  let db = 0;
  if (path !== '') {
    if (!/^\d{1,3}$/.test(path) || Number(path) > QUEUE_MAX_DB) bad(`the path must be a database number 0..${QUEUE_MAX_DB}, not "${path.slice(0, 32)}"`);
    db = Number(path);
  }
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    bad('the user or password is not valid percent-encoding');
  }
  const tls = u.protocol === 'rediss:';
  const display = `${u.protocol}//${username ? `${u.username}${password !== undefined ? ':***' : ''}@` : password !== undefined ? ':***@' : ''}${u.host}${db ? `/${db}` : ''}`;
  return {
    display,
    connection: {
      host,
      port,
      db,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(tls ? { tls: { servername: host } } : {}),
    },
  };
}

/** `text` with anything between `//` and `@` (credentials) hidden. */
function redact(text: string): string {
  return text.replace(/\/\/[^@/]*@/, '//***@').slice(0, 200);
}
