import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { StrataError } from '@strata/errors';
import type { PortBinding, PortSpec } from './publish';

/** Docker's wording, so scripts that match on it keep working. */
export function portAllocated(p: Pick<PortSpec, 'hostIp' | 'hostPort'>): StrataError {
  return new StrataError('PORT_ALLOCATED', `Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`, {
    hint: 'another container or process holds that port: choose another with -p HOST:CONTAINER',
  });
}

/** Whether two bindings take the same host port (the same protocol, and an address in common). */
export function sameHostPort(a: Pick<PortSpec, 'hostIp' | 'hostPort' | 'protocol'>, b: Pick<PortSpec, 'hostIp' | 'hostPort' | 'protocol'>): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (!a.hostIp || !b.hostIp || a.hostIp === b.hostIp);
}

/** Bind the port for a moment: free (its number, for port 0) or in use by some process. */
function probe(p: PortSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(portAllocated(p));
      else if (err.code === 'EADDRNOTAVAIL') reject(new StrataError('USAGE', `cannot publish on ${p.hostIp}: not an address of this host`));
      else reject(new StrataError('NETWORK_SETUP', `checking host port ${p.hostPort}/${p.protocol}: ${err.message}`, { cause: err }));
    };
    if (p.protocol === 'udp') {
      const s = createSocket({ type: 'udp4' });
      s.once('error', fail);
      s.bind({ address: p.hostIp || '0.0.0.0', port: p.hostPort, exclusive: true }, () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
    } else {
      const s = createServer();
      s.once('error', fail);
      s.listen({ host: p.hostIp || '0.0.0.0', port: p.hostPort, exclusive: true }, () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    }
  });
}

/**
 * The host ports of a container's `-p` specs, checked before anything is set up: a port another
 * strata container publishes (`taken`) or any process holds fails with Docker's "port is already
 * allocated"; an ephemeral one (`-p 80`) gets a free number from the kernel. Nothing is held
 * afterwards: the caller records the ports (under the network lock) where the next check sees
 * them, and the port's traffic is DNATed to the container whoever binds it later (as Docker's
 * without its userland proxy).
 */
export async function allocatePorts(specs: readonly PortSpec[], taken: readonly PortBinding[]): Promise<PortBinding[]> {
  const out: PortBinding[] = [];
  for (const p of specs) {
    if (p.hostPort && [...taken, ...out].some((b) => sameHostPort(b, p))) throw portAllocated(p);
    let port = await probe(p);
    // An ephemeral number another strata container has (its port is unbound: the kernel may offer it).
    for (let i = 0; !p.hostPort && [...taken, ...out].some((b) => sameHostPort(b, { ...p, hostPort: port })) && i < 20; i++) port = await probe(p);
    out.push({ ...p, hostPort: port });
  }
  return out;
}
