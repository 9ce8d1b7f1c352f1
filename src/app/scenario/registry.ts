/** Every device kind and step kind a scenario may use: one line each. */
import type { DeviceDef, StepDef } from './types.js';
import { nullblkDevice } from './devices/nullblk.js';
import { fillStep, verifyStep, readStep, discardStep, writeZeroesStep, flushStep } from './steps/io.js';
import { copyStep } from './steps/copy.js';
import { sysfsStep } from './steps/sysfs.js';
import { faultStep } from './steps/fault.js';
import { ringStep } from './steps/ring.js';
import { nvmeDevice } from './devices/nvme.js';
import { nvmeStep } from './steps/nvme.js';
import { scsiDevice } from './devices/scsi.js';
import { scsiStep } from './steps/scsi.js';
import { dmsetupStep } from './steps/dmsetup.js';
import { gcStep } from './steps/gc.js';
import { mkfsStep, mountStep, fileStep, copyFileRangeStep } from './steps/files.js';
import { copychunkStep } from './steps/copychunk.js';

export const DEVICE_KINDS: readonly DeviceDef[] = [nullblkDevice, nvmeDevice, scsiDevice];

export const STEP_KINDS: readonly StepDef[] = [
  fillStep,
  verifyStep,
  readStep,
  copyStep,
  sysfsStep,
  discardStep,
  writeZeroesStep,
  flushStep,
  faultStep,
  ringStep,
  nvmeStep,
  scsiStep,
  dmsetupStep,
  gcStep,
  mkfsStep,
  mountStep,
  fileStep,
  copyFileRangeStep,
  copychunkStep,
];
