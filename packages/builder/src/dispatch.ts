import { StrataError } from '@strata/errors';
import type { Instruction } from '@strata/dockerfile';
import { scope, predefinedArgs, type BuildCtx, type StageState } from './build-state';
import { addMeta } from './stage-layers';
import { goList, goQuoteList, goSetMap } from './go-format';
import { exposedPorts, healthConfig, setEnv } from './runtime-config';
import { copy } from './copy';
import type { StepReport } from './types';
import { runStep } from './run-step';
import { workdir } from './workdir';

// One instruction of a stage: metadata instructions change the config here; WORKDIR, COPY/ADD and
// RUN have files of their own.

export function declareArg(ctx: BuildCtx, st: StageState, name: string, dflt: string | undefined): string | undefined {
  let value: string | undefined;
  if (Object.prototype.hasOwnProperty.call(ctx.buildArgs, name)) {
    value = ctx.buildArgs[name];
    ctx.usedBuildArgs.add(name);
  } else if (dflt !== undefined) value = ctx.lexer.processWord(dflt, scope(st));
  else if (ctx.globalArgs.has(name)) value = ctx.globalArgs.get(name);
  else if (name in predefinedArgs(ctx.platform)) value = predefinedArgs(ctx.platform)[name];
  st.args.set(name, value);
  return value;
}

export async function dispatch(ctx: BuildCtx, st: StageState, ins: Instruction): Promise<{ cached: boolean; files?: StepReport['files'] }> {
  const env = scope(st);
  const word = (w: string) => ctx.lexer.processWord(w, env);
  const cfg = st.config;
  switch (ins.kind) {
    case 'arg': {
      const parts: string[] = [];
      for (const a of ins.args) {
        const dflt = a.default !== undefined ? ctx.lexer.processWord(a.default, scope(st)) : undefined;
        declareArg(ctx, st, a.name, a.default);
        parts.push(dflt !== undefined ? `${a.name}=${dflt}` : a.name);
      }
      addMeta(st, `ARG ${parts.join(' ')}`);
      return { cached: true };
    }
    case 'env': {
      const pairs = ins.pairs.map((p) => [word(p.key), word(p.value)] as const);
      for (const [k, v] of pairs) setEnv(cfg, k, v);
      addMeta(st, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      return { cached: true };
    }
    case 'label': {
      const pairs = ins.pairs.map((p) => [word(p.key), word(p.value)] as const);
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of pairs) cfg.Labels[k] = v;
      addMeta(st, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      return { cached: true };
    }
    case 'maintainer': {
      st.image.author = word(ins.maintainer);
      addMeta(st, `MAINTAINER ${st.image.author}`);
      return { cached: true };
    }
    case 'expose': {
      const ports: string[] = [];
      for (const p of ins.ports) for (const w of ctx.lexer.processWords(p, env)) ports.push(...exposedPorts(w));
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) cfg.ExposedPorts[p] = {};
      addMeta(st, `EXPOSE ${goSetMap(ports)}`);
      return { cached: true };
    }
    case 'user': {
      cfg.User = word(ins.user);
      addMeta(st, `USER ${cfg.User}`);
      return { cached: true };
    }
    case 'volume': {
      const vols: string[] = [];
      for (const v of ins.volumes) {
        const x = word(v);
        if (x === '') throw new StrataError('DOCKERFILE_SYNTAX', 'VOLUME specified can not be an empty string');
        vols.push(x);
      }
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of vols) cfg.Volumes[v] = {};
      addMeta(st, `VOLUME ${goList(vols)}`);
      return { cached: true };
    }
    case 'stopsignal': {
      cfg.StopSignal = word(ins.signal);
      addMeta(st, `STOPSIGNAL ${cfg.StopSignal}`);
      return { cached: true };
    }
    case 'healthcheck': {
      cfg.Healthcheck = healthConfig(ins.health);
      addMeta(st, `HEALTHCHECK ${goQuoteList(ins.health.test)}`);
      return { cached: true };
    }
    case 'shell': {
      st.shell = [...ins.shell];
      cfg.Shell = [...ins.shell];
      addMeta(st, `SHELL ${goList(ins.shell)}`);
      return { cached: true };
    }
    case 'onbuild': {
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.expression];
      addMeta(st, `ONBUILD ${ins.expression}`);
      return { cached: true };
    }
    case 'cmd': {
      cfg.Cmd = ins.command.form === 'exec' ? [...ins.command.args] : [...st.shell, ins.command.text];
      cfg.ArgsEscaped = true;
      st.cmdSet = true;
      addMeta(st, `CMD ${goQuoteList(cfg.Cmd)}`);
      return { cached: true };
    }
    case 'entrypoint': {
      cfg.Entrypoint = ins.command.form === 'exec' ? [...ins.command.args] : [...st.shell, ins.command.text];
      cfg.ArgsEscaped = true;
      if (!st.cmdSet) cfg.Cmd = null;
      addMeta(st, `ENTRYPOINT ${goQuoteList(cfg.Entrypoint)}`);
      return { cached: true };
    }
    case 'workdir':
      return workdir(ctx, st, word(ins.path));
    case 'copy':
    case 'add':
      return copy(ctx, st, ins);
    case 'run':
      return runStep(ctx, st, ins);
    case 'from':
      throw new StrataError('DOCKERFILE_SYNTAX', 'unexpected FROM');
  }
}
