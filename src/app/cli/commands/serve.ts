/**
 * `copylab serve iscsi [--scenario FILE] [--portal HOST:PORT]`: builds the lab and exports the
 * scenario's `iscsi` targets (src/app/iscsi/) until SIGINT or SIGTERM, then shuts down cleanly:
 * no new connections, tasks in flight finish, connections close, the lab closes.
 * Prints `listening on HOST:PORT` once ready (port 0 picks a free port).
 */
import type { Command } from 'commander';
import { buildLab } from '../../scenario/run.js';
import { ScenarioError } from '../../scenario/fields.js';
import { allowOutsidePathsOption, EXIT_OK, EXIT_USAGE, scenarioFrom, type SetExit } from '../common.js';
import { IscsiTarget } from '../../iscsi/target.js';
import { exportTargets } from '../../iscsi/scenario.js';
import { ISCSI_PORT } from '../../iscsi/constants.js';
import { DEFAULT_ADMISSION } from '../../iscsi/admission.js';

interface ServeOptions {
  scenario?: string;
  allowOutsidePaths?: boolean;
  portal: string;
  verbose?: boolean;
  digests?: boolean;
  loginTimeout: string;
}

export function parsePortal(s: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = m[2] === undefined ? ISCSI_PORT : Number(m[2]);
  if (port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function registerServe(program: Command, setExit: SetExit): void {
  const serve = program.command('serve').description('serve the lab\'s devices to real initiators');
  allowOutsidePathsOption(serve.command('iscsi'))
    .description('an iSCSI target (RFC 7143) exporting the scenario\'s iscsi targets through the SCSI model')
    .option('-s, --scenario <file>', 'scenario with devices and an iscsi section (default: the default lab: array lab, LUNs 0 and 1 = /dev/sda, /dev/sdb)')
    .option('-p, --portal <host:port>', 'address to listen on', `127.0.0.1:${ISCSI_PORT}`)
    .option('--no-digests', 'do not offer CRC32C header/data digests')
    .option('--login-timeout <seconds>', 'end connections that have not completed login after this long (1-3600)', String(DEFAULT_ADMISSION.loginTimeoutMs / 1000))
    .option('-v, --verbose', 'log logins, rejected PDUs and ignored commands to stderr')
    .action(async (o: ServeOptions) => {
      const portal = parsePortal(o.portal);
      if (!portal) {
        process.stderr.write(`copylab serve iscsi: --portal: expected HOST:PORT, got ${o.portal}\n`);
        return setExit(EXIT_USAGE);
      }
      const loginTimeout = /^\d{1,4}$/.test(o.loginTimeout) ? Number(o.loginTimeout) : NaN;
      if (!(loginTimeout >= 1 && loginTimeout <= 3600)) {
        process.stderr.write(`copylab serve iscsi: --login-timeout: expected 1-3600 seconds, got ${o.loginTimeout}\n`);
        return setExit(EXIT_USAGE);
      }
      const scenario = scenarioFrom(o.scenario, o);
      if (!scenario.iscsi) throw new ScenarioError(`${o.scenario}: no iscsi section (targets to export)`);
      const lab = buildLab(scenario);
      let target: IscsiTarget;
      try {
        target = new IscsiTarget({
          targets: exportTargets(lab, scenario.iscsi),
          prefs: { digests: o.digests !== false },
          admission: { loginTimeoutMs: loginTimeout * 1000 },
          ...(o.verbose ? { log: (m: string) => process.stderr.write(`copylab iscsi: ${m}\n`) } : {}),
        });
      } catch (err) {
        await lab.close();
        throw new ScenarioError(`${o.scenario ?? 'default lab'}: ${(err as Error).message}`);
      }
      let bound;
      try {
        bound = await target.listen(portal);
      } catch (err) {
        await lab.close();
        process.stderr.write(`copylab serve iscsi: cannot listen on ${o.portal}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
        return setExit(EXIT_USAGE);
      }
      const host = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
      process.stdout.write(`listening on ${host}:${bound.port}\n`);
      for (const t of scenario.iscsi.targets) process.stdout.write(`target ${t.iqn}: ${t.luns.map((l) => `LUN ${l.lun} ${l.dev}`).join(', ')}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await target.close();
      await lab.close();
      process.stdout.write('stopped\n');
      setExit(EXIT_OK);
    });
}
