/** Ids for shared memory (media, host buffers) that device workers reference by number. */
const ids = new WeakMap<SharedArrayBuffer, number>();
let next = 1;

export function shmId(sab: SharedArrayBuffer): number {
  let id = ids.get(sab);
  if (id === undefined) {
    id = next++;
    ids.set(sab, id);
  }
  return id;
}
