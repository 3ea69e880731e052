import type { Nouns } from '../program';
import { action, type Io } from '../runner';
import { runLayerLs, type LayerLsOptions } from './layer-ls';
import { runLayerDiff, type LayerDiffOptions } from './layer-diff';
import { runLayerCreate, type LayerCreateOptions } from './layer-create';
import { runLayerApply, type LayerApplyOptions } from './layer-apply';
import { runImageExport, type ImageExportOptions } from './image-export';
import { runImageCat } from './image-cat';
import { runImageFiles, type ImageFilesOptions } from './image-files';

export function registerLayerCommands(nouns: Nouns, io: Io): void {
  nouns.layer
    .command('ls')
    .description("list an image's layers (index, diffID, size, files, the history line that made it), or files with --files")
    .argument('<ref>', 'image reference or image archive')
    .option('--files', 'list files instead of layers (the merged tree, or one layer with --layer)')
    .option('--layer <n>', 'with --files: only layer N (0 = bottom); whiteouts show as deletions')
    .action(action(io, (ctx, ref: string, opts: LayerLsOptions) => runLayerLs(ctx, ref, opts)));

  nouns.layer
    .command('diff')
    .description('changes between two images, image archives, layer tars or directories (A/C/D like docker diff); exit 1 when they differ. With one image: each layer against the one below')
    .argument('<a>', 'image reference, image archive, layer tar or directory')
    .argument('[b]', 'the same kinds')
    .option('--summary', 'counts and bytes only')
    .option('--ignore-mtime', 'do not count modification times as changes')
    .action(action(io, (ctx, a: string, b: string | undefined, opts: LayerDiffOptions) => runLayerDiff(ctx, a, b, opts)));

  nouns.layer
    .command('create')
    .description('write a layer tar (with whiteouts) that turns directory --from into directory --to')
    .option('--from <dir>', 'the tree below (omit: the layer adds all of --to)')
    .requiredOption('--to <dir>', 'the tree the layer must produce')
    .option('-o, --output <file>', 'output file, - for stdout', '-')
    .option('--source-date-epoch <seconds>', 'clamp mtimes (default: $SOURCE_DATE_EPOCH)')
    .action(action(io, (ctx, opts: LayerCreateOptions) => runLayerCreate(ctx, opts)));

  nouns.layer
    .command('apply')
    .description('apply a layer tar (plain, gzip or zstd) to a directory with Docker layer semantics, refusing unsafe entries')
    .argument('<dir>', 'target directory')
    .option('-i, --input <file>', 'layer tar, - for stdin', '-')
    .option('--whiteouts <mode>', 'apply (delete lower files), overlay (overlayfs whiteout devices) or keep', 'apply')
    .action(action(io, (ctx, dir: string, opts: LayerApplyOptions) => runLayerApply(ctx, dir, opts)));

  nouns.image
    .command('export')
    .description('the flattened root filesystem of an image as one tar (like crane export)')
    .argument('<ref>', 'image reference or image archive')
    .option('-o, --output <file>', 'output file, - for stdout', '-')
    .action(action(io, (ctx, ref: string, opts: ImageExportOptions) => runImageExport(ctx, ref, opts)));

  nouns.image
    .command('cat')
    .description('print one file of an image (symlinks followed inside the image)')
    .argument('<ref>', 'image reference or image archive')
    .argument('<path>', 'path inside the image')
    .action(action(io, (ctx, ref: string, path: string) => runImageCat(ctx, ref, path)));

  nouns.image
    .command('files')
    .description('list a directory of an image (type, mode, owner, size)')
    .argument('<ref>', 'image reference or image archive')
    .argument('[path]', 'directory inside the image', '/')
    .option('-R, --recursive', 'list the whole subtree')
    .action(action(io, (ctx, ref: string, path: string | undefined, opts: ImageFilesOptions) => runImageFiles(ctx, ref, path, opts)));
}
