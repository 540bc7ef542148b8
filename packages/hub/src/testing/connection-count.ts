import type { Server } from 'node:http';

/** The server's open sockets: how a test sees that the hub noticed a client hang up. */
export function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}
