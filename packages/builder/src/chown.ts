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

const SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };
const SPECIAL: Record<string, number> = { u: 0o4000, g: 0o2000, o: 0 };

/**
 * `--chmod`: octal (`755`, `0644`) or symbolic as chmod(1) (`u=rwX,go=rX`, `go-w`, `g=u,o=`,
 * `u+x-w`) applied to `mode`, with BuildKit's rules (tonistiigi/dchapes-mode, Linux `X`):
 * `X` is execute for directories or when the original mode has some execute bit, with any
 * operator; `u`/`g`/`o` as permission copy that class's current bits; no class means all.
 */
export function applyChmod(spec: string, mode: number, isDir: boolean): number {
  if (/^[0-7]{1,4}$/.test(spec)) return parseInt(spec, 8);
  const orig = mode & 0o7777;
  let m = orig;
  for (const clause of spec.split(',')) {
    const match = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/.exec(clause);
    if (!match) throw new StrataError('DOCKERFILE_SYNTAX', `invalid --chmod value ${JSON.stringify(spec)}`);
    const classes = match[1] === '' || match[1].includes('a') ? ['u', 'g', 'o'] : [...new Set(match[1])];
    for (const [, op, perms] of match[2]!.matchAll(/([-+=])([ugo]|[rwxXst]*)/g)) {
      let bits = 0;
      if (perms === 'u' || perms === 'g' || perms === 'o') {
        const v = (m >> SHIFT[perms]!) & 7;
        for (const c of classes) bits |= v << SHIFT[c]!;
      } else {
        for (const p of perms!) {
          let v = 0;
          if (p === 'r') v = 4;
          else if (p === 'w') v = 2;
          else if (p === 'x' || (p === 'X' && (isDir || (orig & 0o111) !== 0))) v = 1;
          for (const c of classes) {
            bits |= v << SHIFT[c]!;
            if (p === 's') bits |= SPECIAL[c]!;
          }
          // Sticky only when the clause is not about "other" alone.
          if (p === 't' && classes.some((c) => c !== 'o')) bits |= 0o1000;
        }
      }
      if (op === '+') m |= bits;
      else if (op === '-') m &= ~bits;
      else {
        let clear = perms!.includes('t') ? 0o1000 : 0;
        for (const c of classes) clear |= (7 << SHIFT[c]!) | SPECIAL[c]!;
        m = (m & ~clear) | bits;
      }
    }
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
