import { describe, expect, it } from 'vitest';
import { findCniPlugin, findTool, which } from '../src/index';

describe('host-tools', () => {
  it('finds the tools strata runs, and names the package of a missing CNI plugin', () => {
    expect(findTool('unshare')).toMatch(/\/unshare$/);
    expect(which('definitely-not-a-tool', '/usr/bin:/bin', '/')).toBeUndefined();
    let err: unknown;
    try {
      findCniPlugin('bridge', { CNI_PATH: '/nonexistent/cni' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'TOOL_NOT_FOUND',
      message: 'CNI plugin "bridge" not found in /nonexistent/cni',
      hint: expect.stringMatching(/containernetworking-plugins/),
    });
  });
});
