import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { parseBool, registryOptions } from './registry-lib';

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  tlsVerify?: string;
}

async function readStdin(ctx: CommandContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin) chunks.push(Buffer.from(c as Buffer));
  // as docker: the trailing newline of `echo pass |` is not part of the password
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function runLogin(ctx: CommandContext, server: string | undefined, flags: LoginFlags): Promise<CommandResult> {
  if (flags.password !== undefined && flags.passwordStdin) throw new StrataError('USAGE', '--password and --password-stdin are mutually exclusive');
  if (flags.passwordStdin && !flags.username) throw new StrataError('USAGE', 'must provide --username with --password-stdin');
  if (!flags.username) throw new StrataError('USAGE', 'login needs --username (-u)', { hint: 'echo "$PASSWORD" | strata login -u USER --password-stdin SERVER' });
  const password = flags.passwordStdin ? await readStdin(ctx) : flags.password;
  if (!password) throw new StrataError('USAGE', 'login needs a password: --password-stdin (or -p)');
  if (flags.password !== undefined) ctx.log('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  const { login } = await import('@strata/registry');
  const r = await login({ ...registryOptions(ctx, parseBool(flags.tlsVerify, '--tls-verify')), server, username: flags.username, password, env: ctx.io.env });
  ctx.debug(`login for ${r.domain} saved in ${r.where}`);
  return { kind: 'text', text: 'Login Succeeded' };
}

export async function runLogout(ctx: CommandContext, server: string | undefined): Promise<CommandResult> {
  const { logout } = await import('@strata/registry');
  const r = await logout({ server, env: ctx.io.env });
  return { kind: 'text', text: r.removed ? `Removing login credentials for ${r.domain}` : `Not logged in to ${r.domain}` };
}

export function register(program: Command, io: Io): void {
  program
    .command('login')
    .description('log in to a registry (saved in the docker config.json, or its credential helper)')
    .argument('[server]', 'registry host[:port] (default Docker Hub)')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (insecure: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--tls-verify <bool>', 'false: accept any certificate and plain http (insecure)')
    .action(action(io, (ctx, server: string | undefined, flags: LoginFlags) => runLogin(ctx, server, flags)));
  program
    .command('logout')
    .description('forget the saved login of a registry')
    .argument('[server]', 'registry host[:port] (default Docker Hub)')
    .action(action(io, (ctx, server: string | undefined) => runLogout(ctx, server)));
}
