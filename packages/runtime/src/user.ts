import { StrataError } from '@strata/errors';

/** A process identity as the runtime applies it. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Home directory from /etc/passwd ("/" when unknown), for a default HOME. */
  home: string;
  /** The user name when one is known (for messages). */
  name?: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const NUMERIC = /^\d+$/;

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4 || !NUMERIC.test(f[2]) || !NUMERIC.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || !NUMERIC.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

/**
 * Docker's rules for `--user` (moby/sys user.GetExecUser): `user`, `uid`, `user:group`, `uid:gid`,
 * mixed. A name must exist in the image's /etc/passwd (group names in /etc/group); a number need not.
 * Without a group, the gid is the passwd entry's (0 when there is none). Supplementary groups are
 * the /etc/group entries that list the user's name, as Docker computes them (only when no group
 * was given explicitly).
 */
export function resolveUser(spec: string, files: { passwd?: string; group?: string }): ResolvedUser {
  const passwd = parsePasswd(files.passwd ?? '');
  const groups = parseGroup(files.group ?? '');
  const [userPart, groupPart] = splitOnce(spec.trim() || '0', ':');
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (NUMERIC.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) {
      throw new StrataError('NOT_FOUND', `unable to find user ${userPart}: no matching entries in passwd file`);
    }
    uid = entry.uid;
  }
  let gid = entry ? entry.gid : 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new StrataError('NOT_FOUND', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  // Docker (runc's GetExecUser) always passes the primary group too: `id` shows groups=<gid>.
  const additionalGids: number[] = [gid];
  if (groupPart === undefined && entry) {
    for (const g of groups) {
      if (g.members.includes(entry.name) && g.gid !== gid && !additionalGids.includes(g.gid)) additionalGids.push(g.gid);
    }
  }
  return { uid, gid, additionalGids, home: entry?.home ?? '/', name: entry?.name };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
