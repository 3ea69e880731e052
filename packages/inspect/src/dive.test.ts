import { describe, expect, it } from 'vitest';
import { DEFAULT_CI_RULES, evaluateCi, goFixed, goFloat, humanizeBytes, parseDiveCi, parseHumanBytes, renderDiveCi } from './dive';
import type { EfficiencyReport } from './efficiency';

const ref = (file: string, count: number, sizeBytes: number) => ({ file, count, sizeBytes, reclaimableBytes: 0, layers: [], why: '' });

describe("dive's CI report", () => {
  it("reproduces dive's Test_CI_Fail snapshot for the same figures", () => {
    const a: EfficiencyReport = {
      efficiency: 1,
      sizeBytes: 0,
      userSizeBytes: 182,
      wastedBytes: 131,
      wastedUserPercent: 131 / 182,
      reclaimableBytes: 0,
      layers: [],
      inefficiencies: [ref('/root/saved.txt', 3, 80), ref('/root/example/somefile1.txt', 2, 34), ref('/root/example/somefile3.txt', 2, 17), ref('/root', 2, 0), ref('/etc', 10, 0)],
    };
    const ev = evaluateCi(a, DEFAULT_CI_RULES);
    expect(ev.pass).toBe(false);
    expect(renderDiveCi(a, ev)).toBe(`Analysis:
  efficiency:        100.00 %
  wastedBytes:       131 bytes (131 B)
  userWastedPercent: 71.98 %

Inefficient Files:
  Count  Wasted Space  File Path
  3      80 B          /root/saved.txt
  2      34 B          /root/example/somefile1.txt
  2      17 B          /root/example/somefile3.txt
  2      0 B           /root
  10     0 B           /etc

Evaluation:
  FAIL  highestUserWastedPercent (too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=0.72 > threshold=0.1))
  SKIP  highestWastedBytes (disabled)
  PASS  lowestEfficiency (0.9)

FAIL [pass:1 fail:1 skip:1]
`);
  });

  it('passes, fails and skips each rule on the boundaries as dive compares', () => {
    const a = { efficiency: 0.9, wastedBytes: 20_000_000, wastedUserPercent: 0.1, inefficiencies: [] } as unknown as EfficiencyReport;
    const ev = evaluateCi(a, { lowestEfficiency: '0.9', highestWastedBytes: '20MB', highestUserWastedPercent: '0.1' });
    expect(ev.results.map((r) => r.status)).toEqual(['PASS', 'PASS', 'PASS']);
    const ev2 = evaluateCi({ ...a, efficiency: 0.89, wastedBytes: 20_000_001 }, { lowestEfficiency: '0.9', highestWastedBytes: '20MB', highestUserWastedPercent: 'off' });
    expect(ev2.results.map((r) => [r.rule, r.status, r.message])).toEqual([
      ['highestUserWastedPercent', 'SKIP', 'disabled'],
      ['highestWastedBytes', 'FAIL', 'too many bytes wasted (wasted-bytes=20000001 > threshold=20000000)'],
      ['lowestEfficiency', 'FAIL', 'image efficiency is too low (efficiency=0.89 < threshold=0.9)'],
    ]);
    expect(() => evaluateCi(a, { ...DEFAULT_CI_RULES, lowestEfficiency: '1.5' })).toThrow(/outside allowed range \(0-1\), given '1.500000'/);
    expect(() => evaluateCi(a, { ...DEFAULT_CI_RULES, highestWastedBytes: '20 parsecs' })).toThrow(/invalid highestWastedBytes/);
  });
});

describe('.dive-ci', () => {
  it("reads dive's camelCase keys (its testdata/default-ci-config/.dive-ci)", () => {
    const text = `rules:
  # If the efficiency is measured below X%, mark as failed.
  lowestEfficiency: 0.96

  highestWastedBytes: 19Mb

  highestUserWastedPercent: 0.6
`;
    expect(parseDiveCi(text)).toEqual({ lowestEfficiency: '0.96', highestWastedBytes: '19Mb', highestUserWastedPercent: '0.6' });
  });
  it('reads kebab-case keys, quotes, other sections; missing keys keep the defaults', () => {
    const text = `---\nplugins:\n  - plugin1\nci: true\nrules:\n  lowest-efficiency: '0.10'\n  highest-wasted-bytes: "20MB"\n  plugin1/rule1: error\n`;
    expect(parseDiveCi(text)).toEqual({ lowestEfficiency: '0.10', highestWastedBytes: '20MB', highestUserWastedPercent: '0.1' });
  });
});

describe('Go and go-humanize formatting', () => {
  it('humanize.Bytes and ParseBytes', () => {
    expect([0, 9, 10, 131, 6405, 12810, 32025, 1220598].map(humanizeBytes)).toEqual(['0 B', '9 B', '10 B', '131 B', '6.4 kB', '13 kB', '32 kB', '1.2 MB']);
    expect(['20MB', '19Mb', '1.5 GiB', '1,000', '10k', 'x'].map(parseHumanBytes)).toEqual([20e6, 19e6, 1.5 * 2 ** 30, 1000, 10000, undefined]);
  });
  it('%.2f rounds exact ties to even; %v of floats', () => {
    expect([goFixed(0.125, 2), goFixed(0.375, 2), goFixed(71.978, 2), goFixed(12.5, 0)]).toEqual(['0.12', '0.38', '71.98', '12']);
    expect([goFloat(0.1), goFloat(0.00001), goFloat(0.9)]).toEqual(['0.1', '1e-05', '0.9']);
  });
});
