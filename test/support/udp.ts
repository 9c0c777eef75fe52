/** StatsD lines sent the way any client sends them: one UDP datagram to 127.0.0.1. */
import dgram from "node:dgram";

export function sendStatsd(port: number, line: string): Promise<void> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) =>
    socket.send(line, port, "127.0.0.1", (err) => {
      socket.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}
