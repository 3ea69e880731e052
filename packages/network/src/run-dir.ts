// Imports nothing: read by the crash check every strata command runs.

/**
 * Host-wide state of containers and networks (a tmpfs, so it goes at reboot together with the
 * bridge, the namespaces and the processes it describes).
 */
export const DEFAULT_RUN_DIR = '/run/strata';
