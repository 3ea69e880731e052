import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';

/** Every response's Last-Modified (BuildKit sets the mtime of an `ADD <url>` file from it). */
export const FIXTURE_LAST_MODIFIED = 'Tue, 14 Nov 2023 22:13:20 GMT';

export interface FixtureServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the files below `dir` read-only on 127.0.0.1 (a random port), for `ADD <url>` goldens:
 * the golden script (docker build) and the golden test (strata build) serve the same folder.
 * A path naming a directory answers with the directory's `index` file when there is one.
 */
export async function serveFixtureDir(dir: string): Promise<FixtureServer> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index');
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.setHeader('Last-Modified', FIXTURE_LAST_MODIFIED);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(body.length));
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
