import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, docker, dockerOk, peerAvailable, tempDir } from '@strata/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { expandInstruction, parseDockerfile } from '../src/index';

/**
 * Interop: the config Docker's BuildKit writes for metadata instructions equals what our
 * typed instructions + expandInstruction give (quotes, escapes, $v, ${v}, :-, :+, legacy ENV).
 * Only syntax that Docker 20.10's older frontend shares with current BuildKit is used.
 */
const DOCKERFILE = `FROM scratch
ENV A=1 B="two words" C='single $A' D=escaped\\ space E=$A F=\${B:-x} G="\${NOPE:-dflt}" H=\${A:+set}
ENV I="a\\"b" J='a\\b' K="x\\$A" L=a\\\\b M=\${A}\${A} SIG=SIGTERM
ENV legacy value with  spaces
LABEL l1="$A-$B" "l 2"=v l3=\${NOPE:-z} l4='$A'
WORKDIR /w/$A
USER \${A}:$A
EXPOSE 80/tcp \${A}0 $A/udp
STOPSIGNAL $SIG
VOLUME ["/v/$A", "/x"]
`;

const TAG = 'strata-it-df/expand:latest';

afterAll(async () => {
  await docker(['rmi', '-f', TAG]);
  cleanupTempDirs();
});

describe.skipIf(!peerAvailable('docker'))('expansion agrees with docker build', () => {
  it('metadata instructions produce the same config', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
    await dockerOk(['build', '-q', '-t', TAG, dir]);
    const inspect = JSON.parse(String((await dockerOk(['image', 'inspect', TAG])).stdout))[0].Config;

    // Our side: dispatch the typed instructions with expandInstruction.
    const env = new Map<string, string>();
    const labels: Record<string, string> = {};
    const ports: Record<string, object> = {};
    const volumes: Record<string, object> = {};
    let workdir = '';
    let user = '';
    let stopSignal = '';
    for (const raw of parseDockerfile(DOCKERFILE).stages[0]!.instructions) {
      const { instruction: ins } = expandInstruction(raw, env);
      if (ins.kind === 'env') for (const p of ins.pairs) env.set(p.key, p.value);
      if (ins.kind === 'label') for (const p of ins.pairs) labels[p.key] = p.value;
      if (ins.kind === 'workdir') workdir = ins.path;
      if (ins.kind === 'user') user = ins.user;
      if (ins.kind === 'stopsignal') stopSignal = ins.signal;
      if (ins.kind === 'volume') for (const v of ins.volumes) volumes[v] = {};
      if (ins.kind === 'expose') for (const p of ins.ports) ports[p.includes('/') ? p : `${p}/tcp`] = {};
    }
    const theirsEnv = (inspect.Env as string[]).filter((e) => !e.startsWith('PATH='));
    expect(theirsEnv).toEqual([...env].map(([k, v]) => `${k}=${v}`));
    expect(inspect.Labels).toEqual(labels);
    expect(inspect.WorkingDir).toBe(workdir);
    expect(inspect.User).toBe(user);
    expect(inspect.StopSignal).toBe(stopSignal);
    expect(inspect.Volumes).toEqual(volumes);
    expect(inspect.ExposedPorts).toEqual(ports);
  });
});
