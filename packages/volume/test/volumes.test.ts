// Volumes without containers: records, Docker's fields, filters, references, prune, export/import.
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '@strata/layer';
import { cleanupTempDirs, hashTree, tempDir } from '@strata/testing';
import {
  addVolumeUser, createVolume, exportVolume, getVolume, importVolume, inspectVolume, listVolumes, matchVolume, parseVolumeFilters, pruneVolumes,
  removeVolume, removeVolumeUser, volumeUsers, ANONYMOUS_LABEL,
} from '../src/index';

afterAll(() => cleanupTempDirs());
const now = new Date('2024-03-04T05:06:07.890Z');

describe('volumes', () => {
  it('create / inspect: Docker\'s fields; idempotent by name; anonymous ones marked', () => {
    const root = tempDir();
    const v = createVolume(root, { name: 'data', labels: { b: '2', a: '1' }, now });
    expect(inspectVolume(v)).toEqual({ CreatedAt: '2024-03-04T05:06:07Z', Driver: 'local', Labels: { a: '1', b: '2' }, Mountpoint: join(root, 'volumes', 'data', '_data'), Name: 'data', Options: {}, Scope: 'local' });
    expect(createVolume(root, { name: 'data', now: new Date(0) }).record.CreatedAt).toBe('2024-03-04T05:06:07Z');
    expect(() => createVolume(root, { name: 'data', labels: { a: 'other' }, now })).toThrow(/already exists with different labels/);
    const anon = createVolume(root, { anonymous: true, now });
    expect(anon.name).toMatch(/^[0-9a-f]{64}$/);
    expect(anon.anonymous).toBe(true);
    expect(inspectVolume(anon)).toMatchObject({ Labels: { [ANONYMOUS_LABEL]: '' }, Options: null });
    expect(listVolumes(root).map((x) => x.name)).toEqual([anon.name, 'data'].sort());
    expect(() => getVolume(root, 'nope')).toThrow('no such volume: nope');
    expect(() => createVolume(root, { name: 'x', now })).toThrow(/too short/);
    expect(() => createVolume(root, { name: '../x', now })).toThrow(/invalid characters/);
  });

  it('filters, users, rm in use, prune (anonymous only unless all)', () => {
    const root = tempDir();
    const named = createVolume(root, { name: 'named', labels: { keep: 'yes' }, now });
    const anon = createVolume(root, { anonymous: true, now });
    const used = createVolume(root, { name: 'used', now });
    addVolumeUser(root, 'used', 'c'.repeat(64));
    const match = (f: string[]) => listVolumes(root).filter((v) => matchVolume(v, parseVolumeFilters(f), () => volumeUsers(root, v.name))).map((v) => v.name);
    expect(match(['dangling=false'])).toEqual(['used']);
    expect(match(['dangling=true', 'name=nam'])).toEqual(['named']);
    expect(match(['label=keep=yes'])).toEqual(['named']);
    expect(match(['label!=keep'])).toEqual([anon.name, 'used'].sort());
    expect(() => parseVolumeFilters(['dangling=maybe'])).toThrow(/dangling=true or dangling=false/);
    expect(() => removeVolume(root, 'used')).toThrow(`remove used: volume is in use - [${'c'.repeat(64)}]`);
    expect(() => removeVolume(root, 'used', { force: true, isRunning: () => true })).toThrow(/volume is in use/);
    expect(pruneVolumes(root).removed).toEqual([anon.name]);
    expect(pruneVolumes(root, { all: true, filters: parseVolumeFilters(['label!=keep=yes'], ['label', 'label!']) }).removed).toEqual([]);
    removeVolumeUser(root, 'used', 'c'.repeat(64));
    expect(pruneVolumes(root, { all: true }).removed).toEqual(['named', 'used']);
    expect(named.name).toBe('named');
    expect(used.name).toBe('used');
  });

  it('export → import: the same tree (modes, links, times), into a new or empty volume only', async () => {
    const root = tempDir();
    const v = createVolume(root, { name: 'src', now });
    mkdirSync(join(v.mountpoint, 'd'));
    writeFileSync(join(v.mountpoint, 'd', 'f'), 'one');
    linkSync(join(v.mountpoint, 'd', 'f'), join(v.mountpoint, 'hard'));
    symlinkSync('d/f', join(v.mountpoint, 'sym'));
    writeFileSync(join(v.mountpoint, '.wh.plain'), 'a name, not a whiteout');
    const tar = await readAll(exportVolume(root, 'src'));
    const copy = await importVolume(root, 'copy', (async function* () { yield tar; })(), { now });
    expect(hashTree(copy.mountpoint)).toBe(hashTree(v.mountpoint));
    await expect(importVolume(root, 'src', (async function* () { yield tar; })(), { now })).rejects.toThrow(/not empty/);
  });
});
