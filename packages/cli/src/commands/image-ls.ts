import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { familiarRepository, parseReference, shortId } from '@strata/oci';
import { goPathMatch } from '@strata/gotext';
import { labelMatches, openStore, parseFilters, resolve, type StoredImage } from '@strata/image-store';
import { GoTypes, goValue, parseListFormat, renderRows, type GoType } from '@strata/inspect';
import { action, takeFormat, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanAgo, humanSize, type Column } from '../table';

export interface LsOptions {
  /** `json`, `table`, `table TEMPLATE` or a Go template (as `docker image ls --format`). */
  format?: string;
  all?: boolean;
  digests?: boolean;
  trunc?: boolean;
  filter?: string[];
  /** `docker image ls [REPOSITORY[:TAG]]`: same as `--filter reference=…`. */
  reference?: string;
}

/** Go's time.Time.String() in UTC, as `docker image ls --format json` prints CreatedAt. */
function goTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

const FIELDS = ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize'];
const ROW_TYPE: GoType = { k: 'struct', name: 'formatter.imageContext', fields: FIELDS.map((name) => ({ name, t: GoTypes.string })) } as GoType;
/** Docker's column titles for `--format 'table …'`. */
const HEADERS: Record<string, string> = {
  Containers: 'CONTAINERS', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', Digest: 'DIGEST', ID: 'IMAGE ID', Repository: 'REPOSITORY',
  SharedSize: 'SHARED SIZE', Size: 'SIZE', Tag: 'TAG', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

interface Row {
  img: StoredImage;
  repository: string;
  tag: string;
}

export async function run(ctx: CommandContext, opts: LsOptions): Promise<CommandResult> {
  const listFormat = parseListFormat(opts.format);
  const filters = parseFilters(opts.filter ?? [], ['dangling', 'label', 'label!', 'before', 'since', 'reference']);
  const store = await openStore(ctx.globals.root);
  const all = await store.images();
  const created = (i: StoredImage) => (i.created ? Date.parse(i.created) : 0);
  const refTime = (ref: string) => {
    const img = resolve(all, ref);
    if (!img) throw new StrataError('IMAGE_NOT_FOUND', `no such image: ${ref}`);
    return created(img);
  };
  const refPatterns = [...filters.filter((f) => f.key === 'reference').map((f) => f.value), ...(opts.reference ? [opts.reference] : [])];
  for (const p of refPatterns) if (goPathMatch(p, '') === 'bad' || goPathMatch(p, p) === 'bad') throw new StrataError('USAGE', `bad reference filter pattern "${p}"`);
  const images = all.filter((img) => {
    for (const f of filters) {
      if (f.key === 'dangling') {
        if (!['true', 'false', '1', '0'].includes(f.value)) throw new StrataError('USAGE', `invalid filter dangling=${f.value} (want true or false)`);
        if ((img.tags.length === 0) !== (f.value === 'true' || f.value === '1')) return false;
      } else if (f.key === 'label') {
        if (labelMatches(f.value, img.config.config?.Labels) === f.negate) return false;
      } else if (f.key === 'before') {
        if (!(created(img) < refTime(f.value))) return false;
      } else if (f.key === 'since') {
        if (!(created(img) > refTime(f.value))) return false;
      }
    }
    return true;
  });

  const rows: Row[] = [];
  for (const img of images) {
    const tags = [...img.tags].sort();
    if (tags.length === 0) {
      if (refPatterns.length === 0) rows.push({ img, repository: '<none>', tag: '<none>' });
      continue;
    }
    for (const t of tags) {
      const r = parseReference(t);
      const repository = familiarRepository(r);
      const tag = r.tag ?? '<none>';
      if (refPatterns.length && !refPatterns.some((p) => goPathMatch(p, repository) === true || goPathMatch(p, `${repository}:${tag}`) === true)) continue;
      rows.push({ img, repository, tag });
    }
  }

  const noTrunc = opts.trunc === false;
  const id = (img: StoredImage) => (noTrunc ? img.id : shortId(img.id));
  const now = ctx.now();
  const records = rows.map(({ img, repository, tag }) => ({
    Containers: 'N/A',
    CreatedAt: goTime(img.created),
    CreatedSince: img.created ? humanAgo(new Date(img.created), now) : 'N/A',
    Digest: img.manifestDigest,
    ID: id(img),
    Repository: repository,
    SharedSize: 'N/A',
    Size: humanSize(img.size),
    Tag: tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(img.size),
  }));
  if (!ctx.globals.quiet && (listFormat.kind === 'template' || (listFormat.kind === 'table' && listFormat.template))) {
    const rows = records.map((r) => goValue(r, ROW_TYPE));
    return { kind: 'text', text: records.length || listFormat.kind === 'table' ? renderRows(listFormat.template!, rows, listFormat.kind === 'table' ? HEADERS : undefined) : '' };
  }
  if (ctx.globals.quiet) {
    const seen = new Set<string>();
    const unique = records.filter((r) => !seen.has(r.ID) && (seen.add(r.ID), true));
    return { kind: 'records', records: unique, quietField: 'ID' };
  }
  const columns: Column[] = [
    { header: 'REPOSITORY', field: 'Repository' },
    { header: 'TAG', field: 'Tag' },
    ...(opts.digests ? [{ header: 'DIGEST', field: 'Digest' }] : []),
    { header: 'IMAGE ID', field: 'ID' },
    { header: 'CREATED', field: 'CreatedSince' },
    { header: 'SIZE', field: 'Size' },
  ];
  return { kind: 'records', records, columns, quietField: 'ID' };
}

export function register(image: Command, io: Io): void {
  image
    .command('ls')
    .alias('list')
    .description('list images (newest first, one row per tag)')
    .argument('[reference]', 'only REPOSITORY[:TAG] (glob patterns allowed), as --filter reference=')
    .option('-a, --all', 'show all images (strata keeps no intermediate images, so this is the same as without)')
    .option('--digests', 'show manifest digests')
    .option('--no-trunc', "don't truncate IDs")
    .option('--format <format>', "json (JSON Lines), 'table TEMPLATE' or a Go template, as docker image ls (also the global --format)")
    .option('-f, --filter <filter>', 'dangling=true|false, label=KEY[=VALUE], label!=…, before=IMAGE, since=IMAGE, reference=PATTERN (repeatable)', collect, [])
    .action((reference: string | undefined, opts: LsOptions, cmd: Command) => {
      const format = takeFormat(cmd);
      return action(io, (ctx) => run(ctx, { ...opts, reference, format: format === 'table' || format === 'json' ? undefined : format }))(cmd);
    });
}

