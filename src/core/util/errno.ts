/**
 * Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h). Completions carry
 * them negated, as the kernel's bi_status → errno mapping and io_uring CQEs do.
 * Hard-coded rather than taken from os.constants so that results are the same on every host.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  /** BLK_STS_RESV_CONFLICT: a SCSI RESERVATION CONFLICT (drivers/scsi/scsi_lib.c). */
  EBADE: 52,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  /** BLK_STS_MEDIUM: an unrecovered read or a write fault (nvme_error_status). */
  ENODATA: 61,
  /** BLK_STS_ZONE_ACTIVE_RESOURCE: too many active zones. */
  EOVERFLOW: 75,
  /** BLK_STS_ZONE_OPEN_RESOURCE: too many open zones. */
  ETOOMANYREFS: 109,
  ENOTSUP: 95, // EOPNOTSUPP
  ETIMEDOUT: 110,
  /** BLK_STS_TARGET: the target refused the command (ILLEGAL REQUEST). */
  EREMOTEIO: 121,
  ECANCELED: 125,
  EALREADY: 114,
  /** Structure needs cleaning: a file system's metadata on the device fails its checks (as ext4 and XFS answer). */
  EUCLEAN: 117,
} as const;

export type ErrnoName = keyof typeof Errno;

const byValue = new Map<number, ErrnoName>(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** "EINVAL" for 22 or -22; "E<n>" for a number this table does not name. */
export function errnoName(value: number): string {
  return byValue.get(Math.abs(value)) ?? `E${Math.abs(value)}`;
}

/** Parses "EINVAL", "-EINVAL", "22" or "-22" into the positive errno, or undefined. */
export function parseErrno(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text !== 0 ? Math.abs(text) : undefined;
  const t = text.trim().replace(/^-/, '');
  if (/^\d+$/.test(t)) return Number(t) || undefined;
  return (Errno as Record<string, number>)[t.toUpperCase() === 'EOPNOTSUPP' ? 'ENOTSUP' : t.toUpperCase()];
}

/** An error that carries a negative errno, for API boundaries that throw. */
export class ErrnoError extends Error {
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(`${errnoName(errno)}: ${message}`);
    this.errno = -Math.abs(errno);
    this.name = 'ErrnoError';
  }
}
