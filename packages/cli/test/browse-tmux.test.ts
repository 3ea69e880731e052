// `image browse` driven as a person would: in tmux (80×24), keys sent with send-keys, the screen
// read with capture-pane and compared with goldens (test-fixtures/browse/*.txt; UPDATE_GOLDENS=1
// rewrites them) for a fixed image made byte for byte the same on every run: at start, after
// moving to layer 3, after toggling the aggregated view, after a filter. The time zone and the
// locale are pinned; the screen shows no dates.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, peerAvailable, REPO_ROOT, STRATA_BIN, tempDir } from '@strata/testing';
import { writeFixtureArchive } from '../../report/test/fixture-image';

const GOLDENS = join(REPO_ROOT, 'test-fixtures/browse');
const SESSION = `strata-browse-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The screen once it stops changing. */
async function screen(): Promise<string> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const now = tmux('capture-pane', '-p', '-t', SESSION);
    if (now === last && now.includes('Quit')) return now;
    last = now;
  }
  return last;
}

function golden(name: string, actual: string): void {
  const file = join(GOLDENS, `${name}.txt`);
  if (process.env.UPDATE_GOLDENS || !existsSync(file)) {
    mkdirSync(GOLDENS, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe.skipIf(!peerAvailable('tmux'))('image browse in tmux', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await tempDir();
    const archive = join(dir, 'fixture.tar');
    await writeFixtureArchive(archive);
    const cmd = `env TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 ${process.execPath} ${STRATA_BIN} --root ${join(dir, 'store')} image browse docker-archive:${archive}; echo EXITED $?; sleep 60`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', cmd);
  });
  afterAll(async () => {
    try {
      tmux('kill-session', '-t', SESSION);
    } catch {}
    await cleanupTempDirs();
  });

  it('start, layer 3, aggregated, filter, quit', async () => {
    golden('start', await screen());
    tmux('send-keys', '-t', SESSION, 'Down', 'Down', 'Down');
    golden('layer-3', await screen());
    tmux('send-keys', '-t', SESSION, 'a');
    golden('aggregated', await screen());
    tmux('send-keys', '-t', SESSION, '/', 't', 'o', 'o', 'l', 'Enter');
    golden('filter', await screen());
    tmux('send-keys', '-t', SESSION, 'q');
    let out = '';
    for (let i = 0; i < 50 && !out.includes('EXITED'); i++) {
      await sleep(100);
      out = tmux('capture-pane', '-p', '-t', SESSION);
    }
    expect(out).toContain('EXITED 0');
  }, 60_000);
});
