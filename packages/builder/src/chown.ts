import { StrataError } from '@strata/errors';
import { parseGroup, parsePasswd } from '@strata/runtime';

export interface Owner {
  uid: number;
  gid: number;
}

const NUMERIC = /^[0-9]+$/;

/**
 * `--chown=user[:group]` as BuildKit resolves it: numbers are taken as they are; names are looked
 * up in the image's /etc/passwd and /etc/group (read lazily: FROM scratch has none). A user
 * without a group gets the user's primary group from passwd, or the uid itself when numeric.
 */
export async function resolveChown(spec: string, files: () => Promise<{ passwd?: string; group?: string }>): Promise<Owner> {
  const i = spec.indexOf(':');
  const user = i < 0 ? spec : spec.slice(0, i);
  const group = i < 0 ? undefined : spec.slice(i + 1);
  let uid: number;
  let gid: number | undefined;
  if (NUMERIC.test(user)) uid = Number(user);
  else {
    const { passwd } = await files();
    const entry = parsePasswd(passwd ?? '').find((p) => p.name === user);
    if (!entry) throw new StrataError('BUILD_FAILED', `unable to find user ${user}: no matching entries in passwd file`);
    uid = entry.uid;
    gid = entry.gid;
  }
  if (group !== undefined && group !== '') {
    if (NUMERIC.test(group)) gid = Number(group);
    else {
      const { group: groupText } = await files();
      const entry = parseGroup(groupText ?? '').find((g) => g.name === group);
      if (!entry) throw new StrataError('BUILD_FAILED', `unable to find group ${group}: no matching entries in group file`);
      gid = entry.gid;
    }
  }
  return { uid, gid: gid ?? uid };
}

/**
 * `--chmod`: octal (`755`, `0644`) or symbolic (`u=rwX,go=rX`, `+x`, `a-w`) applied to `mode`.
 * `X` sets execute only for directories or when some execute bit is already set.
 */
export function applyChmod(spec: string, mode: number, isDir: boolean): number {
  if (/^[0-7]{1,4}$/.test(spec)) return parseInt(spec, 8);
  let m = mode & 0o7777;
  for (const clause of spec.split(',')) {
    const match = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!match) throw new StrataError('DOCKERFILE_SYNTAX', `invalid --chmod value ${JSON.stringify(spec)}`);
    const who = match[1] === '' || match[1].includes('a') ? 'ugo' : match[1];
    let bits = 0;
    for (const p of match[3]) {
      for (const w of who) {
        const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
        if (p === 'r') bits |= 4 << shift;
        else if (p === 'w') bits |= 2 << shift;
        else if (p === 'x' || (p === 'X' && (isDir || (mode & 0o111) !== 0))) bits |= 1 << shift;
        else if (p === 's') bits |= w === 'u' ? 0o4000 : w === 'g' ? 0o2000 : 0;
        else if (p === 't') bits |= w === 'o' ? 0o1000 : 0;
      }
    }
    let mask = 0;
    for (const w of who) mask |= w === 'u' ? 0o4700 : w === 'g' ? 0o2070 : 0o1007;
    if (match[2] === '+') m |= bits;
    else if (match[2] === '-') m &= ~bits;
    else m = (m & ~mask) | bits;
  }
  return m;
}

export function validChmod(spec: string): boolean {
  try {
    applyChmod(spec, 0, false);
    return true;
  } catch {
    return false;
  }
}
