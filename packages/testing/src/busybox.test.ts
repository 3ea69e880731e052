import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { busyboxRootfsTar } from './busybox';

describe('busyboxRootfsTar', () => {
  it('is a real rootfs: /bin/sh a link to busybox, /etc/passwd present', () => {
    // GNU tar words its listing in the locale's language ("link to") and dates in the local zone
    const list = execFileSync('tar', ['-tvf', busyboxRootfsTar()], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
    expect(list).toMatch(/^-rwxr-xr-x 0\/0 +\d{6,} .* \.\/bin\/\[$/m);
    expect(list).toMatch(/^hrwxr-xr-x .* \.\/bin\/sh link to \.\/bin\/\[$/m);
    expect(list).toMatch(/ \.\/etc\/passwd$/m);
    expect(list).toMatch(/^drwxrwxrwt .* \.\/tmp\/$/m);
  });
});
