import type { InstructionInfo, InstructionName } from './types';

/**
 * Which instructions expand variables, allow heredocs, touch only config, and which flags they
 * take. Expansion list = BuildKit's `SupportsSingleWordExpansion` implementers (ARG defaults are
 * expanded at dispatch; an ONBUILD trigger is expanded as its own instruction in the child build).
 * RUN expands only its `--mount` values; CMD/ENTRYPOINT/SHELL/HEALTHCHECK leave `$VAR` to the shell.
 */
export const INSTRUCTION_INFO: Readonly<Record<InstructionName, InstructionInfo>> = {
  add: { expands: true, heredocs: true, metadataOnly: false, flags: ['chown', 'chmod', 'link', 'exclude', 'keep-git-dir', 'checksum', 'unpack'] },
  arg: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  cmd: { expands: false, heredocs: false, metadataOnly: true, flags: [] },
  copy: { expands: true, heredocs: true, metadataOnly: false, flags: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'] },
  entrypoint: { expands: false, heredocs: false, metadataOnly: true, flags: [] },
  env: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  expose: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  from: { expands: true, heredocs: false, metadataOnly: false, flags: ['platform'] },
  healthcheck: { expands: false, heredocs: false, metadataOnly: true, flags: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'] },
  label: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  maintainer: { expands: false, heredocs: false, metadataOnly: true, flags: [] },
  onbuild: { expands: false, heredocs: false, metadataOnly: true, flags: [] },
  run: { expands: false, heredocs: true, metadataOnly: false, flags: ['mount', 'network', 'security', 'device'] },
  shell: { expands: false, heredocs: false, metadataOnly: true, flags: [] },
  stopsignal: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  user: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  volume: { expands: true, heredocs: false, metadataOnly: true, flags: [] },
  workdir: { expands: true, heredocs: false, metadataOnly: false, flags: [] },
};

export const INSTRUCTION_NAMES = Object.keys(INSTRUCTION_INFO) as InstructionName[];

export function isInstructionName(word: string): word is InstructionName {
  return Object.prototype.hasOwnProperty.call(INSTRUCTION_INFO, word);
}
