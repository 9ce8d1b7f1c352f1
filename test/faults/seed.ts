/** The seed of the fault campaigns in the test suite: fixed, or FAULTS_SEED to replay another. */
export const FAULTS_SEED = process.env.FAULTS_SEED !== undefined ? Number(process.env.FAULTS_SEED) >>> 0 : 24;
