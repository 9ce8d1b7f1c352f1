/** The fuzz targets, in the order they run. */
import type { FuzzTarget } from '../engine.js';
import { scsiCommands } from './scsi-commands.js';
import { iscsiPdus } from './iscsi-pdus.js';
import { nvmeCommands } from './nvme-commands.js';
import { ringSqes } from './ring-sqes.js';
import { scenarioYaml } from './scenario-yaml.js';

export const FUZZ_TARGETS: readonly FuzzTarget<never>[] = [scsiCommands, iscsiPdus, nvmeCommands, ringSqes, scenarioYaml] as unknown as FuzzTarget<never>[];
