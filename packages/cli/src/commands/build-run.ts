import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { openStore } from '@strata/image-store';
import { build, createProgressPrinter, type ProgressMode, type SecretSource } from '@strata/builder';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';
import { registryOptions } from './registry-options';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  cache: boolean;
  label: string[];
  platform?: string;
  iidfile?: string;
  progress: string;
  secret: string[];
  pull?: boolean;
  push?: boolean;
  cacheTo?: string;
  cacheFrom: string[];
}

function keyValues(list: string[], what: string, env: NodeJS.ProcessEnv, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0) throw new StrataError('USAGE', `${what} ${JSON.stringify(kv)}: missing name`);
    if (i < 0) {
      // `--build-arg NAME` takes the value from the environment (Docker does the same); unset: ignored.
      if (fromEnv && env[kv] !== undefined) out[kv] = env[kv]!;
      continue;
    }
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function parseSecrets(list: string[]): Record<string, SecretSource> {
  const out: Record<string, SecretSource> = {};
  for (const spec of list) {
    const fields: Record<string, string> = {};
    for (const part of spec.split(',')) {
      const i = part.indexOf('=');
      if (i < 0) throw new StrataError('USAGE', `--secret ${JSON.stringify(spec)}: want id=…,src=…|env=…`);
      fields[part.slice(0, i)] = part.slice(i + 1);
    }
    const id = fields.id;
    if (!id) throw new StrataError('USAGE', `--secret ${JSON.stringify(spec)}: id= is required`);
    const src = fields.src ?? fields.source;
    out[id] = src !== undefined ? { src } : { env: fields.env ?? id };
  }
  return out;
}

/** `type=registry,ref=R` (BuildKit's spelling; the registry exporter is the one strata has). */
function registryCacheRef(spec: string, flag: string): string {
  const fields: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) throw new StrataError('USAGE', `${flag} ${JSON.stringify(spec)}: want type=registry,ref=REGISTRY/REPO[:TAG]`);
    fields[part.slice(0, i)] = part.slice(i + 1);
  }
  if (fields.type !== 'registry') throw new StrataError('USAGE', `${flag} ${JSON.stringify(spec)}: only type=registry is supported`);
  if (!fields.ref) throw new StrataError('USAGE', `${flag} ${JSON.stringify(spec)}: ref= is required`);
  return fields.ref;
}

export async function run(ctx: CommandContext, contextDir: string, flags: BuildFlags): Promise<CommandResult> {
  if (flags.push && flags.tag.length === 0) throw new StrataError('USAGE', '--push needs a name: -t REGISTRY/REPO[:TAG]');
  const cacheTo = flags.cacheTo !== undefined ? registryCacheRef(flags.cacheTo, '--cache-to') : undefined;
  const cacheFrom = flags.cacheFrom.map((s) => registryCacheRef(s, '--cache-from'));
  const progressMode = flags.progress as ProgressMode;
  if (!['auto', 'tty', 'plain', 'json'].includes(progressMode)) throw new StrataError('USAGE', `--progress must be auto, tty, plain or json, not ${JSON.stringify(flags.progress)}`);
  const stderrTTY = !!(ctx.io.stderr as unknown as { isTTY?: boolean }).isTTY;
  const mode: ProgressMode = ctx.globals.quiet ? 'quiet' : progressMode === 'auto' ? (stderrTTY ? 'tty' : 'plain') : progressMode;
  let dockerfileText: string | undefined;
  let dockerfilePath: string | undefined = flags.file;
  if (flags.file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of ctx.io.stdin) chunks.push(Buffer.from(c as Buffer));
    dockerfileText = Buffer.concat(chunks).toString('utf8');
    dockerfilePath = undefined;
  }
  const env = ctx.io.env;
  const sde = env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '' ? Number(env.SOURCE_DATE_EPOCH) : undefined;
  const printer = createProgressPrinter(mode, ctx.io.stderr);
  const store = await openStore(ctx.globals.root, { checkpoint: pauseHook(ctx.io.env) });
  try {
    const result = await build({
      store,
      contextDir,
      dockerfileText,
      dockerfilePath,
      tags: flags.tag,
      buildArgs: keyValues(flags.buildArg, '--build-arg', env, true),
      target: flags.target,
      noCache: !flags.cache,
      labels: keyValues(flags.label, '--label', env, false),
      platform: flags.platform,
      sourceDateEpoch: sde,
      secrets: parseSecrets(flags.secret),
      env: { ...env },
      progress: printer.onEvent,
      registry: registryOptions(ctx, undefined),
      pull: flags.pull,
      cacheTo,
      cacheFrom,
    });
    printer.finish();
    if (flags.push) await (await import('./build-push')).pushBuilt(ctx, store, result.tags);
    if (flags.iidfile) writeFileSync(flags.iidfile, result.id);
    if (ctx.globals.quiet) return { kind: 'text', text: result.id };
    if (mode === 'json') ctx.io.stderr.write(`${JSON.stringify({ type: 'result', id: result.id, tags: result.tags })}\n`);
    else {
      ctx.log(`writing image ${result.id} done`);
      for (const t of result.tags) ctx.log(`naming to ${t} done`);
    }
    return { kind: 'none' };
  } catch (err) {
    printer.finish();
    throw err;
  }
}

export function register(program: Command, io: Io): Command {
  return program
    .command('build')
    .description('build an image from a Dockerfile (`build prune`, `build du` manage the build cache)')
    .argument('[context]', 'build context directory', '.')
    .option('-t, --tag <name>', 'name and tag the image (repeatable)', collect, [])
    .option('-f, --file <path>', 'Dockerfile (default: <context>/Dockerfile; - reads stdin)')
    .option('--build-arg <key=value>', 'set a build-time variable (repeatable)', collect, [])
    .option('--target <stage>', 'build this stage')
    .option('--no-cache', 'do not use the build cache')
    .option('--label <key=value>', 'set a label on the image (repeatable)', collect, [])
    .option('--platform <os/arch>', 'target platform (recorded; this machine builds linux/amd64)')
    .option('--iidfile <file>', 'write the image ID to this file')
    .option('--progress <mode>', 'auto, tty, plain or json (on stderr)', 'auto')
    .option('--secret <id=…,src=…|env=…>', 'a secret for RUN --mount=type=secret (repeatable)', collect, [])
    .option('--pull', 'ask the registry for each FROM image even when the store has it')
    .option('--push', 'push the result to the registry its -t names')
    .option('--cache-to <type=registry,ref=R>', 'push the build cache this build used to a registry')
    .option('--cache-from <type=registry,ref=R>', 'use a build cache from a registry (repeatable)', collect, [])
    .action(action(io, (ctx, contextDir: string, flags: BuildFlags) => run(ctx, contextDir, flags)));
}

