import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { COPY_DEFAULTS } from '../../src/core/block/copy/types.js';

describe('Lab.copyStrategy', () => {
  it('reads the copy options (one source of truth): default, as given, and the strategy a copy reports', async () => {
    const def = new Lab();
    expect(def.copyStrategy).toBe(COPY_DEFAULTS.strategy);
    await def.close();
    const lab = new Lab({ copyStrategy: 'paired' });
    expect(lab.copyStrategy).toBe('paired');
    lab.addNullBlk({ name: 'nullb0', size: 1024 * 1024, lbs: 512, backing: 'memory' });
    const r = await lab.copy('/dev/nullb0', [{ srcOffset: 0, dstOffset: 65536, length: 4096 }]);
    expect(r.res).toBe(4096);
    expect(r.strategy).toBe('paired');
    await lab.close();
  });

  it('an unknown strategy is refused when the lab is made', () => {
    expect(() => new Lab({ copyStrategy: 'sideways' as never })).toThrow(/unknown copy strategy sideways/);
  });
});
