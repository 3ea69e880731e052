import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cleanupTempDirs, DOCKER, peerAvailable, tempDir } from '@strata/testing';
import { isStrataError } from '@strata/errors';
import { listContextNames, loadIgnore } from '../src/index';
// The generator lays out the trees; the test uses the very same function.
// @ts-expect-error a plain .mjs tool without types
import { layout } from '../../../tools/goldens/dockerignore-layout.mjs';

const fixtures = new URL('../../../test-fixtures/dockerignore/', import.meta.url);
const { scenarios } = JSON.parse(readFileSync(new URL('scenarios.json', fixtures), 'utf8')) as {
  scenarios: Array<{ name: string; error?: boolean; current?: { from?: string; remove: string[]; add: string[]; legacyMatchesEngine?: boolean } }>;
};
const { results, engine } = JSON.parse(readFileSync(new URL('scenarios.expected.json', fixtures), 'utf8')) as {
  engine: string;
  results: Record<string, { files?: string[]; error?: string }>;
};

afterAll(cleanupTempDirs);

function list(sc: (typeof scenarios)[number], legacyParentMatching: boolean): string[] {
  const { context, dockerfile } = layout(tempDir(), sc) as { context: string; dockerfile: string };
  const matcher = loadIgnore(context, dockerfile, { legacyParentMatching });
  return listContextNames(context, { matcher }).map((e) => (e.type === 'dir' ? `${e.path}/` : e.path)); // already sorted: the walk order is the sorted order
}

describe(`docker build scenarios (${engine})`, () => {
  it('has at least 40 scenarios, all with a recorded engine result', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(40);
    for (const sc of scenarios) expect(results[sc.name], sc.name).toBeDefined();
  });
  for (const sc of scenarios) {
    const engineResult = results[sc.name];
    if (sc.error) {
      it(`${sc.name}: rejected like the engine (${engineResult.error})`, () => {
        expect(engineResult.error).toBeDefined();
        let err: unknown;
        try {
          list(sc, false);
        } catch (e) {
          err = e;
        }
        expect(isStrataError(err, 'DOCKERIGNORE_SYNTAX')).toBe(true);
        expect((err as Error).message).toMatch(/\.dockerignore:2: bad pattern /);
      });
      continue;
    }
    it(`${sc.name}`, () => {
      let expected = engineResult.files;
      if (sc.current) {
        const from = results[sc.current.from ?? sc.name].files!;
        expected = [...from.filter((f) => !sc.current!.remove.includes(f)), ...sc.current.add].sort();
      }
      expect(list(sc, false)).toEqual(expected);
      if (!sc.current || sc.current.legacyMatchesEngine) expect(list(sc, true)).toEqual(engineResult.files);
    });
  }
});

describe('golden provenance', () => {
  it('the -o type=tar listings equal those of the built images (docker create + docker export)', () => {
    const via = JSON.parse(readFileSync(new URL('scenarios.expected.via-image.json', fixtures), 'utf8')) as { results: typeof results };
    for (const name of Object.keys(results)) {
      expect(via.results[name]?.files, name).toEqual(results[name].files);
      expect(!!via.results[name]?.error, name).toBe(!!results[name].error);
    }
  });
});

describe.skipIf(!peerAvailable('docker'))('live docker build (a few scenarios, against the current engine)', () => {
  for (const name of ['exception-then-reexclude', 'legacy-parent-prefix', 'dockerfile-specific-ignore-wins']) {
    it(name, () => {
      const sc = scenarios.find((s) => s.name === name)!;
      const { context, dockerfile } = layout(tempDir(), sc) as { context: string; dockerfile: string };
      const tar = execFileSync(DOCKER, ['build', '-q', '--no-cache', '-f', dockerfile, '-o', 'type=tar,dest=-', context], {
        env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 64 << 20,
      });
      const names = execFileSync('tar', ['-t'], { input: tar, encoding: 'utf8' }).split('\n')
        .filter((n) => n.startsWith('ctx/') && n !== 'ctx/').map((n) => n.slice(4)).sort();
      expect(names).toEqual(results[name].files);
      expect(list(sc, true)).toEqual(names);
    });
  }
});
