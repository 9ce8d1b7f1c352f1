/**
 * The tag-only backing: a device that stores one 32-bit generation tag per physical block
 * (tag.ts) and no payload, so a terabyte-sized namespace fits in memory. Its reads check: every
 * block the GC moves must hold the tag of the latest write of its logical block, or the run
 * fails with a GcIntegrityError naming the block. Zone (section) reset clears the tags.
 */
import type { Layout } from './layout.js';
import type { MovePlan } from './lfs.js';
import { GcIntegrityError, describeTag } from './tag.js';

export class TagDevice {
  readonly tags: Uint32Array;
  /** `shared`: the tags in shared memory, for a worker thread to read (worker-mover.ts). */
  constructor(
    readonly layout: Layout,
    shared = false,
  ) {
    this.tags = new Uint32Array(shared ? new SharedArrayBuffer(layout.physBlocks * 4) : new ArrayBuffer(layout.physBlocks * 4));
  }

  write(p: number, tag: number): void {
    this.tags[p] = tag;
  }

  reset(section: number): void {
    const sb = this.layout.sectionBlocks;
    this.tags.fill(0, section * sb, section * sb + sb);
  }

  /** Moves the plan's blocks (whatever the path, the device ends up with the same tags), checking each read. */
  move(plan: MovePlan): void {
    moveTags(this.tags, plan);
  }
}

/** The tag-only device's move of a plan's blocks, on whichever thread holds its tags: each read checked against the tag the plan expects. */
export function moveTags(tags: Uint32Array, plan: MovePlan): void {
  const { src, dst, tag, count } = plan;
  for (let i = 0; i < count; i++) {
    const t = tags[src[i]!]!;
    if (t !== tag[i]) throw new GcIntegrityError(`GC read of physical block ${src[i]} returned ${describeTag(t)}, expected ${describeTag(tag[i]!)}`, plan.lba[i]!, src[i]!);
    tags[dst[i]!] = t;
  }
}
