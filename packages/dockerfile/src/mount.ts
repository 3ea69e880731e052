import type { Mount } from './types';

/**
 * Parse one `RUN --mount=` value (CSV `k=v,...`) with BuildKit's validation and defaults.
 * With `expander`, each value is expanded first (dispatch time); without, values stay as written.
 * `sshIndex` numbers the default ssh target `/run/buildkit/ssh_agent.<n>`.
 * Throws StrataError DOCKERFILE_SYNTAX (message without line).
 */
export function parseMount(raw: string, expander?: (word: string) => string, sshIndex = 0): Mount {
  void raw;
  void expander;
  void sshIndex;
  throw new Error('parseMount: not implemented yet');
}
