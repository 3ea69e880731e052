import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { StrataError } from '@strata/errors';
import { parseMount, type Mount, type RunInstruction } from '@strata/dockerfile';
import { CAPTURE_TAR_OPTIONS, runOnLayers, upperNotes } from '@strata/cow';
import { runProcess, type MountSpec } from '@strata/runtime';
import { applyLayer, openRoot, resolveBeneath, writeTar } from '@strata/tar';
import type { Digest } from '@strata/oci';
import { stepKey } from '@strata/layer-cache';
import { cleanSource } from './copy-plan';
import { argsInScope, scope, type BuildCtx, type StageState } from './build-state';
import { addLayer, cachedLayer } from './stage-layers';
import { stageSource } from './stages';

/** Predefined proxy ARGs: usable without an ARG line, kept out of history and cache keys. */
export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** The argv of a RUN (shell form wrapped with SHELL; heredocs as BuildKit's dispatchRun). */
function argvOf(ins: RunInstruction, shell: string[]): { argv: string[]; file?: { path: string; data: string; mode: number } } {
  const plan = ins.heredocPlan;
  if (plan?.kind === 'script') return { argv: [...shell, plan.script] };
  if (plan?.kind === 'shell') return { argv: [...shell, plan.text] };
  if (plan?.kind === 'file') return { argv: [...shell, plan.path], file: { path: plan.path, data: plan.data, mode: plan.mode } };
  return { argv: ins.command.form === 'exec' ? [...ins.command.args] : [...shell, ins.command.text] };
}

/** A line buffer that forwards output as progress events and keeps the tail for error messages. */
function outputSink(ctx: BuildCtx, id: number, stream: 'stdout' | 'stderr', tail: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const data = chunk.toString('utf8');
      ctx.progress({ type: 'log', id, stream, data });
      tail.push(...data.split('\n').filter(Boolean));
      if (tail.length > 20) tail.splice(0, tail.length - 20);
      cb();
    },
  });
}

/** A lock file (O_EXCL) for `sharing=locked` cache mounts, held across processes. */
async function lockFile(path: string): Promise<() => void> {
  for (let i = 0; ; i++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 6000) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** What a process prints when a write failed for lack of space (strerror of ENOSPC, EDQUOT). */
const NO_SPACE_OUTPUT = /no space left on device|disk quota exceeded/i;

/** Less than 1 MiB left for unprivileged writers where the store is: a full filesystem. */
function storeFull(root: string): boolean {
  try {
    const s = statfsSync(root);
    return s.bavail * s.bsize < 1 << 20;
  } catch {
    return false;
  }
}

/**
 * The source of a bind mount, `src` inside `root` (the context, or a stage's files), resolved as
 * BuildKit scopes it: symlinks are followed inside `root` (an absolute target or `..` stops at
 * it), never out of it. The runtime checks that what it mounts is the object found (`identity`),
 * so a rename at its path meanwhile cannot point the mount elsewhere.
 */
function bindSource(root: string, src: string, from: string | undefined): { path: string; identity: { dev: number; ino: number; dir: boolean } } {
  const rootFd = openRoot(root);
  try {
    const found = resolveBeneath(rootFd, src);
    if (!found) {
      const where = from === undefined ? 'the build context' : `${JSON.stringify(from)} (from=)`;
      throw new StrataError('COPY_SOURCE_NOT_FOUND', `RUN --mount=type=bind: ${JSON.stringify(`/${src}`)} not found in ${where}`);
    }
    closeSync(found.fd);
    return { path: found.path === '' ? root : join(root, found.path), identity: { dev: found.stat.dev, ino: found.stat.ino, dir: found.stat.isDirectory() } };
  } finally {
    closeSync(rootFd);
  }
}

export async function runStep(ctx: BuildCtx, st: StageState, ins: RunInstruction): Promise<{ cached: boolean }> {
  const env = scope(st);
  const word = (w: string) => ctx.lexer.processWord(w, env);
  if (ins.security === 'insecure') throw new StrataError('UNSUPPORTED', 'RUN --security=insecure is not allowed (no entitlement)');
  const mounts: Mount[] = ins.mountFlags.map((raw) => parseMount(raw, word));
  const { argv, file } = argvOf(ins, st.shell);
  const args = argsInScope(st);
  const proxies = PROXY_ARGS.filter((k) => ctx.buildArgs[k] !== undefined && !args.some(([a]) => a === k)).map((k) => `${k}=${ctx.buildArgs[k]}`);
  const procEnv = [...(st.config.Env ?? []), ...args.map(([k, v]) => `${k}=${v}`)];
  const createdBy = `RUN ${args.length ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}${argv.join(' ')} # buildkit`;
  const network = ins.network === 'none' ? 'none' : 'host';

  // Key material: bind sources by content (context) or by chain (stages); cache/tmpfs/secret mounts by spec only.
  const mountKeys: unknown[] = [];
  for (const m of mounts) {
    if (m.type === 'bind') {
      const src = cleanSource(m.source ?? '');
      if (m.from !== undefined) {
        const s = await stageSource(ctx, m.from);
        mountKeys.push({ type: 'bind', from: s.id, src, target: m.target, rw: !m.readonly });
      } else {
        const node = ctx.context.stat(src);
        if (!node) throw new StrataError('COPY_SOURCE_NOT_FOUND', `RUN --mount=type=bind: ${JSON.stringify(`/${src}`)} not found in the build context`);
        const nodes = node.type === 'dir' ? [node, ...ctx.context.below(src)] : [node];
        const d = ctx.context.digests(nodes);
        mountKeys.push({ type: 'bind', src, target: m.target, rw: !m.readonly, files: nodes.map((n) => [n.path, d.get(n.path) ?? n.type]) });
      }
    } else mountKeys.push({ type: m.type, target: m.target, id: m.type === 'cache' ? m.id : undefined, sharing: m.sharing, mode: m.mode, uid: m.uid, gid: m.gid, ro: m.readonly, env: m.env, size: m.size });
  }
  const key = stepKey(st.chainId, { op: 'run', argv, env: procEnv, user: st.config.User ?? '', cwd: st.config.WorkingDir || '/', mounts: mountKeys, network, file, epoch: ctx.epoch });

  const id = ctx.stepId;
  const tail: string[] = [];
  let cleanupLayer: (() => Promise<void>) | undefined;
  let commit: ((diffId: Digest) => boolean) | undefined;
  const scratch = join(ctx.store.root, 'tmp', `build-run-${process.pid}-${randomBytes(6).toString('hex')}`);
  const releases: Array<() => void> = [];
  try {
    const { rec, cached } = await cachedLayer(ctx, key, createdBy, async (buffers, stats) => {
      mkdirSync(scratch, { recursive: true });
      const specs: MountSpec[] = [];
      const extraEnv: string[] = [];
      for (const [i, m] of mounts.entries()) {
        const target = m.target ?? '';
        if (m.type === 'bind') {
          const src = cleanSource(m.source ?? '');
          let root: string;
          if (m.from !== undefined) {
            const s = await stageSource(ctx, m.from);
            root = join(scratch, `from-${i}`);
            mkdirSync(root, { recursive: true });
            for (const l of s.layers ?? []) await applyLayer(root, await l.uncompressed());
          } else root = ctx.opts.contextDir;
          const found = bindSource(root, src, m.from);
          // `rw`: the process may write, and what it writes is thrown away (BuildKit's words: "written data will be discarded")
          specs.push({ type: 'bind', source: found.path, sourceIdentity: found.identity, target, readonly: m.readonly, discardWrites: true });
        } else if (m.type === 'cache') {
          const dir = join(ctx.store.root, 'cache', 'mounts', createHash('sha256').update(m.id ?? target).digest('hex'));
          if (!existsSync(dir)) {
            mkdirSync(dir, { recursive: true });
            chmodSync(dir, m.mode ?? 0o755);
            chownSync(dir, m.uid ?? 0, m.gid ?? 0);
          }
          if (m.sharing === 'locked') releases.push(await lockFile(`${dir}.lock`));
          if (m.sharing === 'private') {
            const priv = join(scratch, `cache-${i}`);
            mkdirSync(priv, { recursive: true });
            chmodSync(priv, m.mode ?? 0o755);
            specs.push({ type: 'bind', source: priv, target, readonly: m.readonly });
          } else specs.push({ type: 'bind', source: dir, target, readonly: m.readonly });
        } else if (m.type === 'tmpfs') {
          specs.push({ type: 'tmpfs', target, size: m.size });
        } else if (m.type === 'secret') {
          const secretId = m.id ?? '';
          const srcSpec = ctx.opts.secrets?.[secretId];
          let value: Buffer | undefined;
          if (srcSpec?.src) value = await import('node:fs').then((fs) => fs.readFileSync(srcSpec.src!));
          else if (srcSpec?.env) {
            const v = ctx.opts.env?.[srcSpec.env];
            if (v !== undefined) value = Buffer.from(v);
          }
          if (value === undefined) {
            if (m.required) throw new StrataError('BUILD_FAILED', `secret ${secretId}: not provided (use --secret id=${secretId},src=…)`);
            continue;
          }
          if (m.env) extraEnv.push(`${m.env}=${value.toString('utf8')}`);
          if (m.target || !m.env) {
            const f = join(scratch, `secret-${i}`);
            writeFileSync(f, value, { mode: m.mode ?? 0o400 });
            chownSync(f, m.uid ?? 0, m.gid ?? 0);
            specs.push({ type: 'bind', source: f, target: m.target ?? `/run/secrets/${secretId}`, readonly: true });
          }
        } else throw new StrataError('UNSUPPORTED', `RUN --mount=type=${m.type} is not supported yet`);
      }
      if (file) {
        const f = join(scratch, 'heredoc');
        writeFileSync(f, file.data, { mode: file.mode });
        chmodSync(f, file.mode);
        specs.push({ type: 'bind', source: f, target: file.path, readonly: true });
      }
      const stdout = outputSink(ctx, id, 'stdout', tail);
      const stderr = outputSink(ctx, id, 'stderr', tail);
      const r = await runOnLayers({
        root: ctx.store.root,
        layers: st.layers,
        config: { args: argv, env: procEnv, cwd: st.config.WorkingDir || '/', user: st.config.User ?? '', network },
        output: 'entries',
        checkpoint: (point) => ctx.store.checkpoint(point),
        exec: (c) =>
          runProcess({
            ...c,
            args: argv,
            env: [...procEnv, ...proxies, ...extraEnv],
            cwd: st.config.WorkingDir || '/',
            user: st.config.User || undefined,
            network,
            mounts: specs,
            stdin: 'ignore',
            stdout,
            stderr,
          }),
      });
      cleanupLayer = r.cleanup;
      if (r.exitCode !== 0) {
        const shown = tail.length ? ` (last output: ${tail.slice(-3).join(' | ')})` : '';
        const failed = `process ${JSON.stringify(argv.join(' '))} did not complete successfully: exit code: ${r.exitCode}`;
        // Its writable layer is in the store: a process that failed with the store's filesystem
        // full, or saying it had no space, most likely failed for that, and the way out is the
        // store's (prune, gc), not the Dockerfile's. Checked before the writable layer goes. Both:
        // ext4 hands back blocks it had set aside for delayed allocation once the writer gives up,
        // so the filesystem may no longer look full by the time the process has exited.
        if (storeFull(ctx.store.root)) throw new StrataError('NO_SPACE', `${failed}: the store's filesystem is full (no space left on device)${shown}`);
        if (NO_SPACE_OUTPUT.test(tail.join('\n'))) throw new StrataError('NO_SPACE', `${failed}: it ran out of space (no space left on device)${shown}`);
        throw new StrataError('BUILD_FAILED', `${failed}${shown}`);
      }
      // Mount points a RUN needs that the image lacks are made in the runtime's init layer, never
      // in the upper dir, so none reaches the layer: as current BuildKit, whose MountStubsCleaner
      // removes the empty mount-point stubs and the directories made for them (moby/buildkit#3307,
      // #3314, Docker 23+). Docker 20.10 kept the directories (docs/DOCKER-VERSIONS.md).
      // The layer streams from the upper dir straight into the store (one walk, one write), and
      // what the walk notices lets the upper dir become the layer's snapshot afterwards.
      const notes = upperNotes(ctx.epoch);
      if (ctx.opts.snapshotsFromUpper !== false) commit = (diffId) => r.commitSnapshot({ diffId, notes });
      return writeTar(r.entries(notes), { ...CAPTURE_TAR_OPTIONS, buffers, stats, ...(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {}) });
    });
    if (!cached && commit && rec.layer) commit(rec.layer.digest);
    addLayer(ctx, st, rec, createdBy);
    return { cached };
  } finally {
    for (const r of releases) r();
    if (cleanupLayer) await cleanupLayer();
    rmSync(scratch, { recursive: true, force: true });
  }
}
