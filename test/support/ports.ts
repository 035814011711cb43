// A free TCP port on loopback for servers the tests spawn themselves (Mosquitto, victoria-metrics)
// that cannot be told to pick one and report it.
import net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
