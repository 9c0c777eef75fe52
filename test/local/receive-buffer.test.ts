/**
 * `statsdReceiveBuffer` on the real daemons: Etsy statsd (npm `statsd` 0.9.0, the image's) running the generated UDP
 * server (pipeline/statsd-receive-buffer.ts) from the program's config, and statsd_exporter (v0.30.0) with the
 * program's command line. The buffer is read as the kernel holds it (`ss -m`: `rb`; a size a socket asks for is kept
 * doubled, for the kernel's bookkeeping, while an untouched socket has `net.core.rmem_default` as it is), and lines sent through each socket are counted, so the server module is known to deliver them.
 * The size asked, 1 MiB, is under the host's `net.core.rmem_max` on a usual CI host; the expectation follows the
 * host's cap either way. Then the drops backend: a burst into a socket buffer far too small for it, where every line
 * sent must be either counted or counted as dropped, and the drops must equal the kernel's own count for the socket.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { exporterArgs, exporterMappingYaml } from "../../pipeline/exporter";
import { statsdConfigJs } from "../../pipeline/graphite";
import { statsdUdpDropsBackendJs, statsdUdpServerJs } from "../../pipeline/statsd-receive-buffer";
import { parseMetricsText } from "../../scripts/checks/backends";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup, type RunningProcess } from "../../scripts/local/processes";
import { udpReceiveBuffer } from "../../scripts/local/sockets";
import { binaries, startStatsdProcess, statsdAdmin } from "../../scripts/local/stacks";
import dgram from "node:dgram";
import { sendStatsd } from "../support/udp";

const ASKED = 1024 * 1024;
const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/core/${name}`, "utf8").trim());
/** What the kernel keeps for a socket asking `bytes`: twice the size, capped at twice rmem_max. */
const expectedRb = (bytes: number) => 2 * Math.min(bytes, sysctl("rmem_max"));
const exporter = binaries.statsdExporter();

/** The receive buffer (`rb`) of the UDP socket listening on 127.0.0.1:`port`, as `ss -m` shows it. */
function receiveBuffer(port: number): number {
  const rb = udpReceiveBuffer(port);
  if (rb === undefined) throw new Error(`no UDP socket on ${port} in ss -m`);
  return rb;
}

async function statsdCounter(adminPort: number, name: string): Promise<number | undefined> {
  const answer = await statsdAdmin(adminPort, "counters", "END");
  const found = new RegExp(`'${name.replace(/\./g, "\\.")}': (\\d+)`).exec(answer);
  return found ? Number(found[1]) : undefined;
}

describe("statsd with statsdReceiveBuffer (the generated UDP server)", () => {
  const group = new ProcessGroup();
  after(() => group.stopAll());

  const start = async (bytes: number): Promise<{ udp: number; admin: number; proc: RunningProcess }> => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-rcvbuf-"));
    const serverPath = path.join(dir, "udp-receive-buffer.js");
    writeFileSync(serverPath, statsdUdpServerJs());
    const udp = await freeTcpUdpPort();
    const admin = await freeTcpPort();
    const configPath = path.join(dir, "statsd.js");
    // carbon is absent: statsd logs a failed flush every 10 s, which changes nothing here.
    writeFileSync(configPath, statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: await freeTcpPort(), port: udp, mgmtPort: admin, listenAddress: "127.0.0.1", receiveBuffer: { serverPath, bytes } }));
    return { udp, admin, proc: await startStatsdProcess(group, configPath, admin, `statsd-${bytes}`) };
  };

  it("asks the kernel for the configured buffer, logs what it granted, and counts every line sent to it", async () => {
    const { udp, admin, proc } = await start(ASKED);
    assert.equal(receiveBuffer(udp), expectedRb(ASKED));
    assert.match(proc.output(), new RegExp(`udp server: receive buffer ${expectedRb(ASKED) / 2} bytes, asked ${ASKED}`));
    for (let i = 0; i < 5; i++) await sendStatsd(udp, "buffer_test.lines:1|c");
    assert.ok(await waitFor(async () => (await statsdCounter(admin, "buffer_test.lines")) === 5, 10_000, 100), "statsd did not count the 5 lines");
  });

  it("0 runs statsd's own ./servers/udp, on the kernel's default buffer", async () => {
    const { udp } = await start(0);
    assert.equal(receiveBuffer(udp), sysctl("rmem_default"));
  });
});

describe("statsd's drops backend (statsd.udp_receive_buffer_drops), on a receive buffer too small for a burst", () => {
  const group = new ProcessGroup();
  const BURST = 50_000;
  /** Every value carbon received, summed by path (statsd flushes every second here). */
  const received = new Map<string, number>();
  let sink: net.Server;
  let udp = 0;

  after(async () => {
    await group.stopAll();
    sink?.close();
  });

  it("counts every datagram the kernel dropped: lines counted plus drops counted equal the lines sent, and equal the socket's own drop count", async () => {
    sink = net.createServer((socket) => {
      let text = "";
      socket.on("data", (d) => (text += d.toString()));
      socket.on("end", () => {
        for (const line of text.split("\n").filter(Boolean)) {
          const [name, value] = line.split(" ");
          received.set(name!, (received.get(name!) ?? 0) + Number(value));
        }
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-drops-"));
    const serverPath = path.join(dir, "udp-receive-buffer.js");
    const udpDropsBackendPath = path.join(dir, "udp-receive-buffer-drops.js");
    writeFileSync(serverPath, statsdUdpServerJs());
    writeFileSync(udpDropsBackendPath, statsdUdpDropsBackendJs());
    udp = await freeTcpUdpPort();
    const admin = await freeTcpPort();
    const configPath = path.join(dir, "statsd.js");
    const carbonPort = (sink.address() as net.AddressInfo).port;
    // 8 KiB holds a few dozen datagrams: a burst sent faster than statsd reads overflows it.
    writeFileSync(
      configPath,
      statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: carbonPort, port: udp, mgmtPort: admin, listenAddress: "127.0.0.1", receiveBuffer: { serverPath, bytes: 8192 }, udpDropsBackendPath, flushIntervalMs: 1000 }),
    );
    await startStatsdProcess(group, configPath, admin, "statsd-drops");

    const socket = dgram.createSocket("udp4");
    const line = Buffer.from("drops_test.lines:1|c");
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      for (let i = 0; i < BURST; i++) socket.send(line, udp, "127.0.0.1", (err) => (err ? reject(err) : ++done === BURST && resolve()));
    });
    socket.close();

    const counted = () => received.get("stats_counts.drops_test.lines") ?? 0;
    const dropped = () => received.get("stats_counts.statsd.udp_receive_buffer_drops") ?? 0;
    const settled = await waitFor(() => counted() + dropped() === BURST, 20_000, 200);
    assert.ok(settled, `sent ${BURST}, counted ${counted()}, drops counted ${dropped()}`);
    assert.ok(dropped() > 0, "the burst overflowed nothing: the test proves nothing");
    // The kernel's own count for the socket: /proc/net/udp's last column, the line of statsd's port.
    const portHex = `:${udp.toString(16).toUpperCase().padStart(4, "0")}`;
    const socketLine = readFileSync("/proc/net/udp", "utf8").split("\n").find((l) => l.trim().split(/\s+/)[1]?.endsWith(portHex));
    assert.equal(Number(socketLine!.trim().split(/\s+/).at(-1)), dropped());
  });
});

describe("statsd_exporter with statsdReceiveBuffer (--statsd.read-buffer)", { skip: exporter.skip }, () => {
  const group = new ProcessGroup();
  after(() => group.stopAll());

  const start = async (bytes: number): Promise<{ udp: number; metricsUrl: string }> => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-rcvbuf-"));
    const mappingPath = path.join(dir, "mapping.yml");
    writeFileSync(mappingPath, exporterMappingYaml(DEFAULT_METRIC_PREFIX));
    const udp = await freeTcpUdpPort();
    const web = await freeTcpPort();
    const proc = group.start(`statsd_exporter-${bytes}`, exporter.path, exporterArgs({ mappingPath, statsdListen: `127.0.0.1:${udp}`, webListen: `127.0.0.1:${web}`, readBufferBytes: bytes }));
    await group.waitHttp(proc, `http://127.0.0.1:${web}/-/healthy`, 10_000);
    return { udp, metricsUrl: `http://127.0.0.1:${web}/metrics` };
  };

  it("asks the kernel for the configured buffer and counts every line sent to it", async () => {
    const { udp, metricsUrl } = await start(ASKED);
    assert.equal(receiveBuffer(udp), expectedRb(ASKED));
    for (let i = 0; i < 5; i++) await sendStatsd(udp, "buffer_test.lines:1|c");
    const counted = async () => [...parseMetricsText(await (await fetch(metricsUrl)).text(), "buffer_test_lines")];
    assert.ok(await waitFor(async () => (await counted())[0]?.[1] === 5, 10_000, 100), JSON.stringify(await counted()));
  });

  it("0 leaves the flag out: the kernel's default buffer", async () => {
    const { udp } = await start(0);
    assert.equal(receiveBuffer(udp), sysctl("rmem_default"));
  });
});
