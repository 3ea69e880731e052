// `strata container …` against Docker on the same busybox base: same diffs, commit/run round
// trip, exit codes, crash safety (no mount, no runtime state left behind).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxRootfsTar, cleanupTempDirs, docker, dockerOk, ensureDockerBusybox, peerAvailable, processesMentioning, runStrata, STRATA_BIN, tempDir } from '@strata/testing';

const IMAGE = 'strata-it-run/busybox:latest';
const PREFIX = 'strata-it-run';

function mountsUnder(path: string): string[] {
  return readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(path));
}

const sorted = (s: string) => s.split('\n').filter(Boolean).sort();

describe.skipIf(!peerAvailable('runc'))('strata container (runc)', () => {
  const root = join(tempDir(), 'store');
  // No bridge network unless a test asks: the bridge tests (packages/container/test/network.test.ts)
  // count what containers leave on the host, and containers of other files would disturb them.
  const noBridge = (args: string[]) => {
    const i = args.findIndex((a, j) => args[j - 1] === 'container' && (a === 'run' || a === 'create'));
    return i < 0 || args.includes('--network') ? args : [...args.slice(0, i + 1), '--network', 'none', ...args.slice(i + 1)];
  };
  const s = (args: string[], input?: string) => runStrata(noBridge(args), { root, input });

  beforeAll(async () => {
    const r = await s(['image', 'import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), IMAGE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
  afterAll(async () => {
    const ls = await s(['container', 'ls', '-a', '-q', '--no-trunc']);
    for (const id of sorted(ls.out)) await s(['container', 'rm', '-f', id]);
    expect(mountsUnder(root)).toEqual([]);
    cleanupTempDirs();
  });

  it('propagates exit codes, output and stderr', async () => {
    const r = await s(['container', 'run', '--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.out).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    // `--` keeps strata's global options (-q, -v, --format, --root) away from the command.
    const dd = await s(['container', 'run', '--rm', IMAGE, '--', 'sh', '-c', 'echo "$@"', 'sh', '-q', '-v', '--format', 'x']);
    expect(dd.out).toBe('-q -v --format x\n');
    const nf = await s(['container', 'run', '--rm', IMAGE, 'no-such-cmd']);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toMatch(/no-such-cmd.*not found/);
    // --rm removes the container even when its process could not start.
    expect((await s(['container', 'ls', '-a', '-q'])).out).toBe('');
  });

  it('resolves users, env, workdir, hostname and network none', async () => {
    const r = await s(['container', 'run', '--rm', '-u', 'app', '-w', '/tmp', '-e', 'FOO=bar', '--hostname', 'box', '--network', 'none', IMAGE,
      'sh', '-c', 'id; pwd; echo $FOO $HOME; hostname; ls /sys/class/net']);
    expect(r.stderr).toBe('');
    expect(r.out).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\n/tmp\nbar /home/app\nbox\nlo\n');
    const g = await s(['container', 'run', '--rm', '-u', '33:50', IMAGE, 'id']);
    expect(g.out).toBe('uid=33(www-data) gid=50(staff) groups=50(staff)\n');
    const bad = await s(['container', 'run', '--rm', '-u', 'nobody-here', IMAGE, 'id']);
    // Docker's run exits 125 when the container cannot start.
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/unable to find user nobody-here/);
  });

  it('create/start/logs/ls/stop/rm, detached', async () => {
    const c = await s(['container', 'create', '--name', 'c1', IMAGE, 'sh', '-c', 'echo started; sleep 30']);
    expect(c.code).toBe(0);
    let ls = await s(['--format', 'json', 'container', 'ls', '-a']);
    expect(ls.out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.Names === 'c1')).toMatchObject({ State: 'created', ExitCode: null });
    expect((await s(['container', 'start', 'c1'])).code).toBe(0);
    ls = await s(['container', 'ls']);
    expect(ls.out).toMatch(/c1/);
    for (let i = 0; i < 50 && !(await s(['container', 'logs', 'c1'])).out.includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await s(['container', 'logs', 'c1'])).out).toBe('started\n');
    expect((await s(['container', 'rm', 'c1'])).code).toBe(2);
    const t0 = Date.now();
    expect((await s(['container', 'stop', '-t', '1', 'c1'])).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
    ls = await s(['--format', 'json', 'container', 'ls', '-a']);
    expect(ls.out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.Names === 'c1')).toMatchObject({ State: 'exited', ExitCode: 137 });
    expect((await s(['container', 'rm', 'c1'])).code).toBe(0);
    expect(existsSync(join(root, 'containers'))).toBe(true);
    expect((await s(['container', 'ls', '-a', '-q'])).out).not.toMatch(/c1/);
  });

  it('logs: both streams in order, --tail, --timestamps', async () => {
    expect((await s(['container', 'run', '--name', 'lg', IMAGE, 'sh', '-c', 'echo a; echo b >&2; sleep 0.3; echo c'])).code).toBe(0);
    const all = await s(['container', 'logs', 'lg']);
    expect(all.out).toBe('a\nc\n');
    expect(all.stderr).toBe('b\n');
    const tail = await s(['container', 'logs', '--tail', '1', 'lg']);
    expect([tail.out, tail.stderr]).toEqual(['c\n', '']);
    expect((await s(['container', 'logs', '-t', 'lg'])).out).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z a\n/);
    expect((await s(['container', 'rm', 'lg'])).code).toBe(0);
  });

  it('--volume (ro), --tmpfs, --read-only; wait and inspect', async () => {
    const vol = tempDir();
    writeFileSync(join(vol, 'f'), 'hostfile\n');
    const r = await s(['container', 'run', '--name', 'vm', '--volume', `${vol}:/data:ro`, '--tmpfs', '/scratch:size=1m', '--read-only', IMAGE,
      'sh', '-c', 'cat /data/f; touch /data/x 2>/dev/null || echo ro; echo t > /scratch/t && cat /scratch/t; touch /y 2>/dev/null || echo rootro']);
    expect(r.out).toBe('hostfile\nro\nt\nrootro\n');
    expect((await s(['container', 'diff', 'vm'])).out).toBe('');
    const bad = await s(['container', 'run', '--rm', '--volume', './relative:/x', IMAGE, 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/If you intended to pass a host directory, use absolute path/);
    const d = await s(['container', 'run', '-d', '--name', 'w5', IMAGE, 'sh', '-c', 'sleep 0.5; exit 5']);
    expect(d.code, d.stderr).toBe(0);
    expect((await s(['container', 'wait', 'w5'])).out).toBe('5\n');
    expect((await s(['container', 'ls', '-q', '--no-trunc', '-f', 'exited=5'])).out.trim()).toBe(JSON.parse((await s(['container', 'inspect', 'w5'])).out)[0].Id);
    expect(sorted((await s(['--format', 'json', 'container', 'ls', '-f', 'status=exited', '-f', 'name=w5', '-f', 'name=vm'])).out).map((l) => JSON.parse(l).Names).sort()).toEqual(['vm', 'w5']);
    expect((await s(['container', 'ls', '-f', 'bogus=1'])).code).toBe(2);
    const info = JSON.parse((await s(['container', 'inspect', 'w5', 'vm'])).out);
    expect(info[0]).toMatchObject({ Name: '/w5', State: { Status: 'exited', Running: false, ExitCode: 5 }, Config: { Cmd: ['sh', '-c', 'sleep 0.5; exit 5'] } });
    expect(info[1].HostConfig).toMatchObject({ ReadonlyRootfs: true, Binds: [`${vol}:/data:ro`] });
    expect((await s(['container', 'rm', 'w5', 'vm'])).code).toBe(0);
  });

  it('exec runs in a running container with its env, as another user, and the changes count', async () => {
    expect((await s(['container', 'run', '-d', '--name', 'ex', '-e', 'FOO=1', IMAGE, 'sleep', '30'])).code).toBe(0);
    const r = await s(['container', 'exec', '-u', 'app', 'ex', 'sh', '-c', 'id; grep CapEff /proc/self/status; echo $FOO $HOME; echo hi > /tmp/x; exit 4']);
    expect(r.code).toBe(4);
    expect(r.out).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\nCapEff:\t0000000000000000\n1 /home/app\n');
    expect((await s(['container', 'exec', '-i', 'ex', 'cat'], 'stdin\n')).out).toBe('stdin\n');
    expect(sorted((await s(['container', 'diff', 'ex'])).out)).toEqual(['A /tmp/x', 'C /tmp']);
    expect((await s(['container', 'rm', '-f', 'ex'])).code).toBe(0);
    const gone = await s(['container', 'exec', 'ex', 'true']);
    expect(gone.code).toBe(2);
  });

  it('passes stdin with -i', async () => {
    const r = await s(['container', 'run', '--rm', '-i', IMAGE, 'sh', '-c', 'tr a-z A-Z'], 'piped text\n');
    expect(r.out).toBe('PIPED TEXT\n');
    const no = await s(['container', 'run', '--rm', IMAGE, 'cat'], 'ignored\n');
    expect(no.out).toBe('');
  });

  it('SIGTERM to strata stops the container (TERM, then KILL after --stop-timeout) and cleans up', async () => {
    const cases: Array<[string[], number]> = [
      [['sh', '-c', 'trap "exit 3" TERM; sleep 60 & wait'], 3],
      [['sleep', '60'], 137], // PID 1 without a handler ignores SIGTERM
    ];
    for (const [cmd, want] of cases) {
      const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'container', 'run', '--network', 'none', '--name', 'term', '--stop-timeout', '1', IMAGE, ...cmd], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if ((await s(['--format', 'json', 'container', 'ls'])).out.includes('"term"')) break;
      }
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(want);
      expect(Date.now() - t0).toBeLessThan(6000);
      const rec = (await s(['--format', 'json', 'container', 'ls', '-a'])).out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.Names === 'term');
      expect(rec).toMatchObject({ State: 'exited', ExitCode: want });
      expect(readdirSync(join(root, 'containers', rec.ID, 'runtime'))).toEqual([]);
      expect((await s(['container', 'rm', 'term'])).code).toBe(0);
    }
    expect(mountsUnder(root)).toEqual([]);
  });

  it('container prune removes stopped containers, keeps snapshots of stored images', async () => {
    expect((await s(['container', 'create', '--name', 'p1', IMAGE, 'true'])).code).toBe(0);
    expect((await s(['container', 'run', '--name', 'p2', IMAGE, 'true'])).code).toBe(0);
    const snaps = readdirSync(join(root, 'snapshots')).filter((n) => !n.startsWith('.'));
    const r = await s(['container', 'prune', '-f']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toMatch(/Deleted Containers:/);
    expect((await s(['container', 'ls', '-a', '-q'])).out).toBe('');
    expect(readdirSync(join(root, 'snapshots')).filter((n) => !n.startsWith('.'))).toEqual(snaps);
  });

  it('SIGKILL of strata mid-run leaves no mount or runtime state after the next command', async () => {
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'container', 'run', '--network', 'none', '--name', 'victim', IMAGE, 'sleep', '60'], { stdio: 'ignore' });
    let running = false;
    for (let i = 0; i < 100 && !running; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const ls = await s(['--format', 'json', 'container', 'ls']);
      running = ls.out.includes('"victim"');
    }
    expect(running).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const ls = await s(['--format', 'json', 'container', 'ls', '-a']);
    const victim = ls.out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.Names === 'victim');
    expect(victim).toMatchObject({ State: 'exited', ExitCode: 137 });
    const dir = join(root, 'containers', victim.ID);
    expect(existsSync(join(dir, 'runtime')) ? readdirSync(join(dir, 'runtime')) : []).toEqual([]);
    expect(existsSync(join(dir, 'bundle'))).toBe(false);
    expect(mountsUnder(root)).toEqual([]);
    // The container's processes are gone too.
    expect(processesMentioning(victim.ID)).toEqual([]);
    const check = await s(['store', 'check']);
    expect(check.code, check.out + check.stderr).toBe(0);
    expect((await s(['container', 'rm', 'victim'])).code).toBe(0);
  });

  describe.skipIf(!peerAvailable('docker'))('against docker', () => {
    const base = ensureDockerBusybox();
    const names: string[] = [];
    afterAll(async () => {
      if (names.length) await docker(['rm', '-f', ...names]);
      await docker(['rmi', '-f', `${PREFIX}/committed:1`]);
    });

    const SEQUENCES = [
      'echo x > /etc/newf; rm /etc/group; mkdir -p /a/b/c; echo y >> /etc/passwd; chmod 700 /home/app; rm -r /var/www; touch /bin/ls; mkdir /var/www; echo z > /var/www/idx; ln -s /x /usr/lnk; rm /bin/cat; mv /bin/cp /tmp/cp2',
      'touch /etc; mkdir /x; rmdir /x; rm /etc/passwd; echo z > /etc/passwd; mv /home/app /home/app2',
      'chown 1000:1000 /etc/group; ln /bin/busybox /root/bb; mkfifo /tmp/fifo; echo a > /tmp/f; chmod 4755 /tmp/f; rm -rf /home; mkdir -p /home/new',
    ];

    it.each(SEQUENCES.map((seq, i) => [i, seq]))('diff %i equals docker diff', async (i, seq) => {
      const name = `${PREFIX}-diff-${i}-${process.pid}`;
      names.push(name);
      await dockerOk(['run', '--name', name, base, 'sh', '-c', seq as string]);
      const want = (await dockerOk(['diff', name])).out;
      const r = await s(['container', 'run', '--name', `d${i}`, IMAGE, 'sh', '-c', seq as string]);
      expect(r.code, r.stderr).toBe(0);
      const got = await s(['container', 'diff', `d${i}`]);
      expect(sorted(got.out)).toEqual(sorted(want));
      const json = await s(['--format', 'json', 'container', 'diff', `d${i}`]);
      expect(json.out.trim().split('\n').map((l) => JSON.parse(l)).map((c) => `${c.Kind} ${c.Path}`).sort()).toEqual(sorted(want));
    });

    it('commit, then run the new image; history like docker commit', async () => {
      const r = await s(['container', 'run', '--name', 'tocommit', '-e', 'ADDED=1', IMAGE, 'sh', '-c', 'echo hello > /greeting; rm /etc/group']);
      expect(r.code).toBe(0);
      const c = await s(['container', 'commit', '-c', 'CMD ["cat", "/greeting"]', '-m', 'my message', '-a', 'Jane', 'tocommit', 'strata-it-run/committed:1']);
      expect(c.stderr).toBe('');
      expect(c.out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      const run = await s(['container', 'run', '--rm', 'strata-it-run/committed:1']);
      expect(run.out).toBe('hello\n');
      const env = await s(['container', 'run', '--rm', 'strata-it-run/committed:1', 'sh', '-c', 'echo $ADDED; test -e /etc/group || echo gone']);
      expect(env.out).toBe('1\ngone\n');
      // The committed image loads into Docker and runs the same.
      const saved = await runStrata(['image', 'save', 'strata-it-run/committed:1'], { root });
      expect(saved.code, saved.stderr).toBe(0);
      await dockerOk(['load'], { input: saved.stdout });
      expect((await dockerOk(['run', '--rm', 'strata-it-run/committed:1'])).out).toBe('hello\n');
      const hist = await dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'strata-it-run/committed:1']);
      expect(hist.out.split('\n')[0]).toBe('sh -c echo hello > /greeting; rm /etc/group|my message');
      const inspect = JSON.parse((await dockerOk(['image', 'inspect', 'strata-it-run/committed:1'])).out)[0];
      expect(inspect.Author).toBe('Jane');
      expect(inspect.Config.Cmd).toEqual(['cat', '/greeting']);
      expect(inspect.Config.Env).toContain('ADDED=1');
    });

    it('export is the merged root filesystem', async () => {
      const e = await s(['container', 'export', 'tocommit']);
      expect(e.code, e.stderr).toBe(0);
      const list = await new Promise<string>((resolve) => {
        const tar = spawn('tar', ['-t'], { stdio: ['pipe', 'pipe', 'inherit'] });
        let out = '';
        tar.stdout.on('data', (b: Buffer) => (out += b.toString()));
        tar.on('close', () => resolve(out));
        tar.stdin.end(e.stdout);
      });
      const names = sorted(list);
      expect(names).toContain('./greeting');
      expect(names).toContain('./etc/passwd');
      expect(names).not.toContain('./etc/group');
      expect(mountsUnder(root)).toEqual([]);
    });
  });
});
