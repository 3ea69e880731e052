// A RUN step's upper dir becomes the snapshot of its layer (nothing is unpacked for the next
// step). The next steps must see exactly what they would see on a snapshot unpacked from the
// stored layer: the same build, once each way, gives the same image digest, with later steps that
// read the earlier layers' metadata (owners, modes, times, links, whiteouts, opaque directories,
// no mount-point stub left by a RUN --mount) into files of their own layers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { snapshotUnpackCount } from '@strata/cow';
import { openStore } from '@strata/image-store';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, runStrata, tempDir, writeTree } from '@strata/testing';
import { readAll } from '@strata/layer';
import { tarFileBytes, writeTar } from '@strata/tar';
import { build } from '../src';

afterAll(cleanupTempDirs);

// frac.tar (made below) holds /t/frac with an mtime of 1600000000.5, before the epoch: the RUN
// that copies that time to /d/frac writes a layer that keeps the whole second (as BuildKit's
// does), and the next RUN must see that second however the snapshot was made.
const DOCKERFILE = `FROM strata-test/busybox:latest
ADD frac.tar /t/
RUN mkdir -p /d/sub /d/keep && echo a > /d/a && ln /d/a /d/hl && ln -s a /d/sym && chown 1000:1000 /d/sub && chmod 700 /d/sub \\
 && echo x > /bin/newfile && rm /etc/group && rm -rf /home && mkdir /home && echo h > /home/h && mkfifo /d/fifo && touch -d @1600000000 /d/keep \\
 && touch -r /t/frac /d/frac
RUN --mount=type=tmpfs,target=/mnt/t/deep echo in-mount > /d/after-mount
RUN chmod 640 /d/a && chown 1:1 /d/hl && ls -lnR --full-time /d /home > /listing && (cat /etc/group || echo no-group) > /group \\
 && (test -e /mnt && echo mount-stub-left || echo no-mount-stub) > /mnt-state \\
 && stat -c '%n %a %u %g %h %Y %F' /d /d/* /home /home/h /bin/newfile > /stat && stat -c '%n %y' /t/frac /d/frac > /frac-times
`;

describe.skipIf(!peerAvailable('runc') && !peerAvailable('crun'))('RUN snapshots from the upper dir', () => {
  let base: string;
  beforeAll(async () => {
    base = join(tempDir(), 'seed');
    const r = await runStrata(['image', 'import', busyboxRootfsTar(), 'strata-test/busybox:latest'], { root: base });
    expect(r.code, r.stderr).toBe(0);
  });

  async function buildWith(snapshotsFromUpper: boolean) {
    const root = join(tempDir(), snapshotsFromUpper ? 'upper' : 'unpacked');
    const load = await runStrata(['image', 'save', '-o', join(root + '.tar'), 'strata-test/busybox:latest'], { root: base });
    expect(load.code, load.stderr).toBe(0);
    expect((await runStrata(['image', 'load', '-i', join(root + '.tar')], { root })).code).toBe(0);
    const store = await openStore(root);
    const frac = await readAll(writeTar([{ path: 'frac', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 2, mtime: 1_600_000_000.5, data: 'f\n' }]));
    const ctx = writeTree(tempDir(), { Dockerfile: DOCKERFILE, 'frac.tar': { content: frac } });
    const before = snapshotUnpackCount();
    const r = await build({ store, contextDir: ctx, sourceDateEpoch: 1_700_000_000, snapshotsFromUpper });
    return { id: r.id, unpacked: snapshotUnpackCount() - before, store, root };
  }

  it('gives the image a snapshot unpacked from the layer gives, and unpacks only the base and the ADD', async () => {
    const viaUpper = await buildWith(true);
    const viaTar = await buildWith(false);
    // The base and the ADD layer are unpacked either way (a RUN runs on them); the upper dirs of
    // the first two RUNs are what the second and third ran on.
    expect(viaUpper.unpacked).toBe(2);
    expect(viaTar.unpacked).toBe(4);
    expect(viaUpper.id).toBe(viaTar.id);
    // Docker's size of the image, counted as each ADD and RUN layer was written (hard links, a
    // fifo, whiteouts among them), is what the headers of its layers give
    const img = await viaUpper.store.image(viaUpper.id);
    expect(img.size).toBe(img.config.rootfs.diff_ids.reduce((n, d) => n + tarFileBytes(viaUpper.store.blobs.path(d)), 0));
    const times = await runStrata(['image', 'cat', viaUpper.id, '/frac-times'], { root: viaUpper.root });
    expect(times.code, times.stderr).toBe(0);
    expect(times.out).toBe('/t/frac 2020-09-13 12:26:40.500000000 +0000\n/d/frac 2020-09-13 12:26:40.000000000 +0000\n');
  });
});
