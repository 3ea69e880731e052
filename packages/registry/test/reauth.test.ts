// A Bearer token the registry refuses (expired) is fetched again once, and the request retried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cleanupTempDirs, peerAvailable, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { envFor, storeWithBusybox, strataOk } from './helpers';

const ready = peerAvailable('docker-registry') && peerAvailable('openssl');

describe.skipIf(!ready)('expired tokens', () => {
  let reg: RegistryServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('strata-reauth-');
    reg = await startRegistry('token', join(dir, 'registry'), { expireFirstToken: true });
    await storeWithBusybox(join(dir, 'store'), 'bb:1');
  });
  afterAll(async () => {
    await reg?.stop();
    cleanupTempDirs();
  });

  it('an expired token is fetched again once; push and pull go on', async () => {
    const env = envFor(reg, join(dir, 'cfg'));
    await strataOk(['login', '-u', reg.user, '--password-stdin', reg.host], join(dir, 'store'), env, reg.password);
    // login's token (no scope) was the expired one: asked for twice
    expect(reg.tokenRequests().filter((r) => r.authorized && r.scope.length === 0).length).toBe(2);
    await strataOk(['push', 'bb:1', `${reg.host}/reauth/bb:1`], join(dir, 'store'), env);
    await strataOk(['pull', '-q', `${reg.host}/reauth/bb:1`], join(dir, 'other'), env);
  });
});
