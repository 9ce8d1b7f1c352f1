import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

const copylab = (...args: string[]) => spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('copylab run --scenario', () => {
  it('runs the scenario as the argument form does', () => {
    const a = copylab('run', '--scenario', 'examples/quickstart.yaml', '--json');
    const b = copylab('run', 'examples/quickstart.yaml', '--json');
    expect(a.status).toBe(0);
    const steps = (out: string) => out.trim().split('\n').map((l) => (JSON.parse(l) as { step: number; kind: string; ok: boolean }).kind);
    expect(steps(a.stdout)).toEqual(steps(b.stdout));
    expect(copylab('run', '-s', 'examples/quickstart.yaml').stdout).toMatch(/^examples\/quickstart\.yaml\n/);
    // The same file both ways is one scenario.
    expect(copylab('run', 'examples/quickstart.yaml', '--scenario', 'examples/quickstart.yaml', '--json').status).toBe(0);
  });

  it('refusals (exit 2, one line): two different scenarios, --print with a scenario, a missing file', () => {
    expect(copylab('run', 'examples/quickstart.yaml', '--scenario', 'examples/fallback.yaml')).toMatchObject({ status: 2, stderr: 'copylab: run: two scenarios, examples/quickstart.yaml and --scenario examples/fallback.yaml; name one\n' });
    expect(copylab('run', '--print', '--scenario', 'examples/quickstart.yaml')).toMatchObject({ status: 2, stderr: "copylab: run --print prints the default lab's scenario; it takes no scenario (examples/quickstart.yaml)\n" });
    const missing = copylab('run', '--scenario', 'no-such-file.yaml');
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/no-such-file\.yaml/);
  });
});
