import { describe, expect, it } from 'vitest';
import { CONTAINER_CONFIG, goStructJson } from './docker-types';
import { dockerInspect, rfc3339Nano } from './docker-inspect';

describe("container.Config through Go's decoder", () => {
  it('fills zero values in Docker order, drops unknown keys, honours omitempty', () => {
    const out = goStructJson(CONTAINER_CONFIG, { cmd: 'echo hi', ExposedPorts: {}, Unknown: 1, Labels: { a: 'b' }, StopTimeout: 5, Healthcheck: { Test: ['NONE'] } });
    expect(Object.keys(out)).toEqual(['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels', 'StopTimeout']);
    expect(out.Cmd).toEqual(['echo hi']);
    expect(out.Healthcheck).toEqual({ Test: ['NONE'] });
    expect(out.Env).toBeNull();
    expect(out.StopTimeout).toBe(5);
  });
  it('an exact key wins over a case-insensitive one', () => {
    expect(goStructJson(CONTAINER_CONFIG, { user: 'a', User: 'b' }).User).toBe('b');
  });
});

describe('inspect object', () => {
  it('without config, history or layers', () => {
    const o = dockerInspect({ id: `sha256:${'0'.repeat(64)}`, config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, size: 0 });
    expect(o.Config).toBeNull();
    expect(o.Created).toBe('0001-01-01T00:00:00Z');
    expect(o.RootFS).toEqual({ Type: 'layers' });
    expect(o.Metadata).toEqual({ LastTagTime: '0001-01-01T00:00:00Z' });
    expect(o.Comment).toBe('');
  });
  it.each([
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z'],
    ['2024-01-02T03:04:05.100000000Z', '2024-01-02T03:04:05.1Z'],
    ['2024-01-02T03:04:05.123456789+02:00', '2024-01-02T03:04:05.123456789+02:00'],
    ['2024-01-02T03:04:05+00:00', '2024-01-02T03:04:05Z'],
    ['garbage', '0001-01-01T00:00:00Z'],
  ])('Created %s → %s', (input, want) => expect(rfc3339Nano(input)).toBe(want));
});
