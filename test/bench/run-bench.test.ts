import { describe, expect, it } from 'vitest';
import * as copylab from '../../src/app/index.js';
import { Lab } from '../../src/app/lab.js';
import { runBench } from '../../src/app/bench/run-bench.js';
import { JobFileError } from '../../src/app/bench/jobfile.js';

describe('the package exports the bench harness, plots and trace files', () => {
  it('names them at the top of the package', () => {
    for (const name of ['runBench', 'parseJobText', 'loadJobFiles', 'JobFileError', 'runJobs', 'fioResult', 'formatNormal', 'formatTerse', 'resultsSpec', 'renderSvg', 'renderResultsSvg', 'plotRows', 'openTraceFile', 'TraceWriter', 'readTrace', 'TraceFileError', 'TraceSummary', 'formatTraceLine']) {
      expect(typeof (copylab as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('runBench: job text or parsed jobs; a job this lab cannot run rejects with a JobFileError naming its line', async () => {
    const lab = new Lab();
    try {
      lab.addNullBlk({ name: 'nullb0', size: 8 << 20, lbs: 4096, backing: 'memory' });
      const r = await runBench(lab, '[w]\nfilename=/dev/nullb0\nrw=write\nbs=4k\nsize=1m\n', { file: 'w.fio' });
      expect(r.jobs).toHaveLength(1);
      expect(r.jobs[0]).toMatchObject({ jobname: 'w', error: 0, write: { io_bytes: 1 << 20 } });
      await expect(runBench(lab, '[r]\nfilename=/dev/nullb9\nrw=read\nbs=4k\n', { file: 'r.fio' })).rejects.toThrow(JobFileError);
      await expect(runBench(lab, '[r]\nfilename=/dev/nullb9\nrw=read\nbs=4k\n', { file: 'r.fio' })).rejects.toThrow(/^r\.fio:2: \[r\] filename=\/dev\/nullb9: /);
    } finally {
      await lab.close();
    }
  });
});
