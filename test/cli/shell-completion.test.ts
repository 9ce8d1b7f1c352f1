/** The lab shell's Tab completion: commands, options, device paths and sysfs paths. */
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { makeProgram } from '../../src/app/cli/main.js';
import { completer } from '../../src/app/cli/commands/shell.js';

describe('shell completion', () => {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: 1 << 20 });
  lab.addNullBlk({ name: 'nullb1', size: 1 << 20 });
  const complete = completer(makeProgram(() => {}), lab);

  it('completes a sysfs path from the lab tree, folder by folder', () => {
    expect(complete('sysfs cat /sys/block/nu')).toEqual([['/sys/block/nullb0/', '/sys/block/nullb1/'], '/sys/block/nu']);
    const [hits] = complete('sysfs cat /sys/block/nullb0/queue/copy_max');
    expect(hits).toContain('/sys/block/nullb0/queue/copy_max_bytes');
    expect(hits.every((h) => h.startsWith('/sys/block/nullb0/queue/copy_max'))).toBe(true);
  });

  it('completes device paths, commands and options as before', () => {
    expect(complete('lab /dev/nullb')[0]).toEqual(['/dev/nullb0', '/dev/nullb1']);
    expect(complete('sys')[0]).toContain('sysfs');
    expect(complete('sysfs ca')[0]).toEqual(['cat']);
  });
});
