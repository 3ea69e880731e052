/**
 * Whether a test's precondition holds (root, a peer tool, a filesystem feature). Where it does
 * not, the test is skipped and the reason printed — except under CI=true, where a missing
 * precondition is an error: CI must really run the test. Use it as the condition of a visible
 * skip, never as an early `return` inside a test (that counts as a pass):
 *
 *     it.skipIf(!requireOrSkip(process.getuid?.() === 0, 'needs root'))('…', …)
 */
export function requireOrSkip(ok: boolean, why: string): boolean {
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${why}`);
  if (!warned.has(why)) {
    warned.add(why);
    // eslint-disable-next-line no-console
    console.warn(`SKIP: ${why}`);
  }
  return false;
}

const warned = new Set<string>();

/** Running as root (owners, devices, switching users, overlay mounts). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
