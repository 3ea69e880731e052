// `strata build --platform`: the platform is recorded in the image config and seen by the
// predefined TARGET* ARGs (BUILD* stay this machine's); a malformed value is a usage error.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cleanupTempDirs, runStrata, tempDir, writeTree } from '@strata/testing';

afterAll(() => cleanupTempDirs());

const DOCKERFILE = [
  'FROM scratch',
  'ARG TARGETPLATFORM',
  'ARG TARGETOS',
  'ARG TARGETARCH',
  'ARG TARGETVARIANT',
  'ARG BUILDPLATFORM',
  'LABEL target=$TARGETPLATFORM os=$TARGETOS arch=$TARGETARCH variant=$TARGETVARIANT build=$BUILDPLATFORM',
  'COPY a.txt /',
  '',
].join('\n');

async function inspectField(root: string, ref: string, template: string): Promise<string> {
  const r = await runStrata(['image', 'inspect', '--format', template, ref], { root });
  expect(r.code, r.stderr).toBe(0);
  return r.out.trim();
}

describe('strata build --platform', () => {
  it('records the platform in the config and the TARGET* args', async () => {
    const root = join(tempDir(), 'root');
    const ctx = writeTree(tempDir(), { Dockerfile: DOCKERFILE, 'a.txt': 'a' });
    const r = await runStrata(['build', '-q', '--platform', 'linux/arm64/v8', '-t', 'strata-plat:arm', ctx], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(await inspectField(root, 'strata-plat:arm', '{{.Os}}/{{.Architecture}}/{{.Variant}}')).toBe('linux/arm64/v8');
    const labels = JSON.parse(await inspectField(root, 'strata-plat:arm', '{{json .Config.Labels}}'));
    expect(labels).toEqual({ target: 'linux/arm64/v8', os: 'linux', arch: 'arm64', variant: 'v8', build: 'linux/amd64' });

    const d = await runStrata(['build', '-q', '-t', 'strata-plat:default', ctx], { root });
    expect(d.code, d.stderr).toBe(0);
    expect(await inspectField(root, 'strata-plat:default', '{{.Os}}/{{.Architecture}}')).toBe('linux/amd64');
    expect(d.out.trim()).not.toBe(r.out.trim());
  });

  it('refuses a malformed platform with one line and exit 2', async () => {
    const root = join(tempDir(), 'root');
    const ctx = writeTree(tempDir(), { Dockerfile: DOCKERFILE, 'a.txt': 'a' });
    const r = await runStrata(['build', '--platform', 'arm64', '-t', 'strata-plat:bad', ctx], { root });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/invalid platform "arm64"/);
  });
});
