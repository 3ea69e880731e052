import { existsSync } from 'node:fs';

let cached: string | undefined;

/**
 * The python3 strata uses for extended attributes (Node has no xattr API): Debian's
 * `/usr/bin/python3` when present — a version manager's shim on PATH (pyenv, asdf) can cost
 * ~80 ms per start, which a RUN step pays twice — else `python3` on PATH. Started isolated
 * (`-I -S`: no user site, no PYTHON* variables), the scripts use the standard library only.
 */
export function python3Argv(script: string, ...args: string[]): [string, string[]] {
  cached ??= existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  return [cached, ['-I', '-S', '-c', script, ...args]];
}
