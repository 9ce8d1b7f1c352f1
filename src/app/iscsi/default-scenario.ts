/** The lab `copylab serve iscsi` exports when given no scenario: one array, two LUs, one target. */
export const DEFAULT_ISCSI_IQN = 'iqn.2024-01.org.copylab:lab';

export const DEFAULT_ISCSI_SCENARIO_YAML = `\
description: One SCSI array with two logical units, exported as LUNs 0 and 1 of one iSCSI target.
devices:
  - kind: scsi
    array: lab
    lus:
      - { name: sda, size: 64MiB }
      - { name: sdb, size: 64MiB }
iscsi:
  targets:
    - iqn: ${DEFAULT_ISCSI_IQN}
      luns: [ /dev/sda, /dev/sdb ]
`;
