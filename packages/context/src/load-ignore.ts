import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createMatcher, readIgnoreFile, type Matcher } from '@strata/dockerignore';
import { StrataError, wrapError } from '@strata/errors';

export interface LoadIgnoreOptions {
  /** Use this ignore file instead of the lookup (like `--ignore-file`). */
  ignoreFile?: string;
  /** Match like Docker 20.10's BuildKit sender (see `@strata/dockerignore`). */
  legacyParentMatching?: boolean;
}

/** The compiled matcher plus the file it came from (undefined: no ignore file, nothing excluded). */
export type IgnoreMatcher = Matcher & { readonly file?: string };

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return wrapError(err, `reading ${path}`);
  }
}

/**
 * Find and compile the ignore rules of a build, as BuildKit does: `<Dockerfile>.dockerignore`
 * beside the Dockerfile first, else `<context>/.dockerignore`. `dockerfilePath` is resolved against
 * the current directory (as `docker build -f`), default `<context>/Dockerfile`.
 */
export function loadIgnore(contextDir: string, dockerfilePath?: string, options: LoadIgnoreOptions = {}): IgnoreMatcher {
  const candidates: string[] = [];
  if (options.ignoreFile !== undefined) candidates.push(resolve(options.ignoreFile));
  else {
    // a Dockerfile read from stdin (`-f -`) has no file to sit beside
    if (dockerfilePath !== '-') {
      const dockerfile = resolve(dockerfilePath ?? join(contextDir, 'Dockerfile'));
      candidates.push(join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`));
    }
    candidates.push(join(resolve(contextDir), '.dockerignore'));
  }
  for (const file of candidates) {
    const bytes = readOptional(file);
    if (bytes === undefined) {
      if (options.ignoreFile !== undefined) throw new StrataError('NOT_FOUND', `ignore file ${options.ignoreFile} does not exist`);
      continue;
    }
    const matcher = createMatcher(readIgnoreFile(bytes), { source: file, legacyParentMatching: options.legacyParentMatching });
    return Object.assign(matcher, { file });
  }
  return createMatcher([], { legacyParentMatching: options.legacyParentMatching });
}
