// The racer of races.test.ts (issue 18, item 5): swaps DIR/NAME, a directory, for a symlink to
// TARGET and back, as fast as it can, until STOPFILE exists, MAXMS pass or MAXFLIPS swaps are done.
// Prints the number of swaps made. Everything it renames stays inside DIR.
// Usage: node races-flipper.mjs DIR NAME TARGET STOPFILE MAXMS MAXFLIPS
import { existsSync, lstatSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, target, stopFile, maxMs, maxFlips] = process.argv.slice(2);
const p = join(dir, name);
const hold = join(dir, `.${name}.hold`);
const link = join(dir, `.${name}.link`);
const end = Date.now() + Number(maxMs);
const max = Number(maxFlips);

const isLink = (x) => {
  try {
    return lstatSync(x).isSymbolicLink();
  } catch {
    return false;
  }
};
const tryRename = (a, b) => {
  try {
    renameSync(a, b);
    return true;
  } catch {
    return false;
  }
};

let flips = 0;
for (let i = 0; flips < max; i++) {
  if ((i & 63) === 0 && (existsSync(stopFile) || Date.now() > end)) break;
  if (!isLink(link)) {
    // a directory the operation made in a gap was moved here: put a fresh link instead
    try {
      rmSync(link, { recursive: true, force: true });
      symlinkSync(target, link);
    } catch {
      continue; // the operation is still writing into it
    }
  }
  if (!tryRename(p, hold)) continue; // not there (yet): the operation has not made it
  if (tryRename(link, p)) {
    flips++;
    // the symlink stands for a moment
    for (let k = 0; k < 200; k++);
    tryRename(p, link);
  }
  if (!tryRename(hold, p)) {
    try {
      rmSync(hold, { recursive: true, force: true });
    } catch {
      // the operation is still writing into it: next round
    }
  }
}
process.stdout.write(`${flips}\n`);
