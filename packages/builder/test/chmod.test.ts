import { describe, expect, it } from 'vitest';
import { applyChmod, validChmod } from '../src/chown';

// --chmod values as BuildKit applies them (tonistiigi/dchapes-mode with Linux `X`,
// moby/buildkit#5850); the goldens (case 70) check the common ones against an image.
describe('applyChmod', () => {
  const table: Array<[string, number, boolean, number]> = [
    ['0640', 0o755, false, 0o640],
    ['u+x', 0o644, false, 0o744],
    ['u+x,g+w', 0o755, true, 0o775],
    ['go-w,o-r', 0o644, false, 0o640],
    ['a=rX', 0o644, false, 0o444],
    ['a=rX', 0o755, false, 0o555],
    ['a=rX', 0o700, true, 0o555],
    ['u=rwX,go=rX', 0o600, true, 0o755],
    ['u=rwX,go=rX', 0o640, false, 0o644],
    ['g=u,o=', 0o754, false, 0o770],
    ['go=u-w', 0o755, false, 0o755],
    ['u+x-w', 0o644, false, 0o544],
    ['a+x,u-w', 0o644, false, 0o555],
    ['+x', 0o644, false, 0o755],
    ['u+s,+t', 0o755, true, 0o5755],
    ['o+t', 0o755, true, 0o755],
    ['u=', 0o4755, false, 0o055],
  ];
  it.each(table)('%s on %o (dir: %s) is %o', (spec, mode, isDir, want) => {
    expect(applyChmod(spec, mode, isDir).toString(8)).toBe(want.toString(8));
  });

  it('refuses what chmod(1) would', () => {
    for (const bad of ['u+q', 'x+u', 'u=ug', '8755', 'a', '']) expect(validChmod(bad), bad).toBe(false);
  });
});
