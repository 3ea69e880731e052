// Types of docker-with-iptables.mjs for the TypeScript tests that import it.
export declare const DOCKER: string;
export declare const DOCKERD: string;
export declare const TEST_BRIDGE: string;
export declare const TEST_SUBNET_PREFIX: string;

export interface TestDockerd {
  docker(args: string[], opts?: { input?: string; timeoutMs?: number }): { code: number; out: string; err: string };
  /** unix:// socket */
  host: string;
  /** the bridge's address */
  gateway: string;
  stop(): Promise<void>;
}

/** A dockerd of its own with Docker's default networking (iptables, masquerade, userland proxy) and `image` imported from `rootfsTar`. */
export declare function startTestDockerd(o: { rootfsTar: string; image: string }): Promise<TestDockerd>;
