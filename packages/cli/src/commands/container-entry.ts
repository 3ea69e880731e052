/** The script a detached monitor runs: the CLI bundle this process was started from. */
export function STRATA_ENTRY(): string {
  return process.argv[1];
}
