import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { StrataError } from '@strata/errors';
import type { PortBinding, PortSpec } from './publish';

/** Published host ports held open by the process that owns the container (as podman's conmon holds them). */
export interface PortReservation {
  /** The specs with every host port known (ephemeral ones as the kernel chose them). */
  readonly bindings: PortBinding[];
  release(): Promise<void>;
}

function listenTcp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    // No connection ever reaches it: the port's traffic is DNATed to the container first.
    s.listen({ host: host || '0.0.0.0', port, exclusive: true, backlog: 1 }, () => {
      s.off('error', reject);
      s.unref();
      resolve(s);
    });
  });
}

function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: 'udp4' });
    s.once('error', reject);
    s.bind({ address: host || '0.0.0.0', port, exclusive: true }, () => {
      s.off('error', reject);
      s.unref();
      resolve(s);
    });
  });
}

/** Docker's wording, so scripts that match on it keep working. */
function allocated(p: PortSpec): StrataError {
  return new StrataError('PORT_ALLOCATED', `Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`, {
    hint: 'another container or process holds that port: choose another with -p HOST:CONTAINER',
  });
}

/**
 * Bind every published host port in this process before the container starts: a port in use
 * (by another container or any other process) fails here, before anything is set up, and the
 * port stays ours for as long as the container runs; ephemeral ports (`-p 80`) get their
 * number here. Release when the container has stopped and its port mappings are gone.
 */
export async function reservePorts(specs: readonly PortSpec[]): Promise<PortReservation> {
  const held: Array<Server | Socket> = [];
  const bindings: PortBinding[] = [];
  const release = async () => {
    await Promise.all(held.splice(0).map((h) => new Promise<void>((r) => (h as { close(cb: () => void): void }).close(() => r()))));
  };
  try {
    for (const p of specs) {
      const clash = bindings.find((b) => b.hostPort === p.hostPort && b.protocol === p.protocol && p.hostPort !== 0 && (b.hostIp === p.hostIp || !b.hostIp || !p.hostIp));
      if (clash) throw allocated(p);
      let h: Server | Socket;
      try {
        h = p.protocol === 'udp' ? await bindUdp(p.hostIp, p.hostPort) : await listenTcp(p.hostIp, p.hostPort);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw allocated(p);
        if (code === 'EADDRNOTAVAIL') throw new StrataError('USAGE', `cannot publish on ${p.hostIp}: not an address of this host`);
        throw new StrataError('NETWORK_SETUP', `reserving host port ${p.hostPort}/${p.protocol}: ${(err as Error).message}`, { cause: err });
      }
      held.push(h);
      const a = h.address() as { port: number };
      bindings.push({ ...p, hostPort: a.port });
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { bindings, release };
}
