import { describe, expect, it } from 'vitest';
import { familiarReference, normalizeReference, parseReference } from './reference';
import { chainIds, sha256 } from './digest';

describe('parseReference (Docker normalisation)', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['foo/bar', 'docker.io/foo/bar:latest', 'foo/bar:latest'],
    ['index.docker.io/foo/bar:x', 'docker.io/foo/bar:x', 'foo/bar:x'],
    ['localhost/foo', 'localhost/foo:latest', 'localhost/foo:latest'],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b:c', 'localhost:5000/a/b:c'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest', '127.0.0.1:5000/x:latest'],
    ['a.b/c__d-e.f', 'a.b/c__d-e.f:latest', 'a.b/c__d-e.f:latest'],
  ])('%s', (input, full, familiar) => {
    expect(normalizeReference(input)).toBe(full);
    const r = parseReference(full);
    expect(familiarReference(r)).toBe(familiar);
  });

  it('keeps digests and does not invent a tag beside one', () => {
    const d = sha256('x');
    expect(normalizeReference(`busybox@${d}`)).toBe(`docker.io/library/busybox@${d}`);
    expect(parseReference(`busybox:1@${d}`).tag).toBe('1');
  });

  it.each(['', 'Busybox', 'foo//bar', 'foo:', 'a/b:-x', 'busybox@sha256:abc', 'x'.repeat(0) + 'a'.repeat(64).replace(/a/g, 'f')])(
    'rejects %j',
    (input) => {
      expect(() => parseReference(input)).toThrow(/invalid reference/);
    },
  );

  // found by tools/reliability fuzzing: the message quoted the reference raw, over two lines
  it.each(['\n', 'a\nb', 'x:\r'])('rejects %j in a one-line message', (input) => {
    expect(() => parseReference(input)).toThrow(/^invalid reference "[^\r\n]*": [^\r\n]*$/);
  });

  it('treats an upper-case first component as a registry host (as Docker does)', () => {
    expect(parseReference('Foo/bar').domain).toBe('Foo');
  });
});

describe('chainIds', () => {
  it('follows the OCI definition', () => {
    const a = sha256('a');
    const b = sha256('b');
    expect(chainIds([a, b])).toEqual([a, sha256(`${a} ${b}`)]);
  });
});
