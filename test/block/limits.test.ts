import { describe, expect, it } from 'vitest';
import { defaultLimits, stackLimits, stackingLimits, checkLimits, updateCopyLimit } from '../../src/core/block/limits.js';

describe('queue limits stacking (blk_stack_limits: the stricter wins)', () => {
  it('takes the larger block sizes and the smaller transfer limits', () => {
    const a = defaultLimits(512);
    a.max_hw_sectors = a.max_sectors = 1024;
    a.max_copy_hw_sectors = 2048;
    a.max_copy_src_segments = 128;
    a.copy_domain = 'd0';
    updateCopyLimit(a);
    const b = defaultLimits(4096);
    b.physical_block_size = 8192;
    b.max_hw_sectors = b.max_sectors = 256;
    b.max_copy_hw_sectors = 8192;
    b.max_copy_src_segments = 4;
    b.copy_domain = 'd0';
    b.copy_offload_min_bytes = 65536;
    updateCopyLimit(b);
    const t = stackingLimits();
    stackLimits(t, a);
    stackLimits(t, b);
    expect(t).toMatchObject({
      logical_block_size: 4096,
      physical_block_size: 8192,
      max_hw_sectors: 256,
      max_sectors: 256,
      max_copy_hw_sectors: 2048,
      max_copy_sectors: 2048,
      max_copy_src_segments: 4,
      copy_domain: 'd0',
      copy_offload_min_bytes: 65536,
    });
    expect(checkLimits(t)).toBeNull();
  });

  it('a device without copy support makes the stack unable to copy', () => {
    const a = defaultLimits();
    a.max_copy_hw_sectors = 2048;
    updateCopyLimit(a);
    const t = stackingLimits();
    stackLimits(t, a);
    stackLimits(t, defaultLimits());
    expect(t.max_copy_sectors).toBe(0);
  });

  it('devices in different copy domains leave the stack without a domain', () => {
    const a = defaultLimits();
    a.copy_domain = 'd0';
    const b = defaultLimits();
    b.copy_domain = 'd1';
    const t = stackingLimits();
    stackLimits(t, a);
    expect(t.copy_domain).toBe('d0');
    stackLimits(t, b);
    expect(t.copy_domain).toBeNull();
  });

  it('the effective copy limit is min(hw, user)', () => {
    const l = defaultLimits();
    l.max_copy_hw_sectors = 2048;
    l.max_user_copy_sectors = 4096;
    updateCopyLimit(l);
    expect(l.max_copy_sectors).toBe(2048);
    l.max_user_copy_sectors = 8;
    updateCopyLimit(l);
    expect(l.max_copy_sectors).toBe(8);
  });

  it('checkLimits refuses impossible limits', () => {
    expect(checkLimits({ ...defaultLimits(), logical_block_size: 1000 })).toMatch(/power of two/);
    expect(checkLimits({ ...defaultLimits(4096), physical_block_size: 512 })).toMatch(/physical_block_size/);
    expect(checkLimits({ ...defaultLimits(), max_sectors: 99999 })).toMatch(/max_sectors/);
    expect(checkLimits({ ...defaultLimits(4096), max_copy_hw_sectors: 1 })).toMatch(/copy_max_hw_bytes/);
  });
});
