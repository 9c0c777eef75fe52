/**
 * The generated drops backend (pipeline/statsd-receive-buffer.ts) on fake /proc/net/udp files: what it adds to a
 * statsd flush. The local tier runs it in the real statsd against the kernel's own counts.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { statsdUdpDropsBackendJs } from "../../pipeline/statsd-receive-buffer";

const HEADER = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops";
/** A /proc/net/udp line for a socket bound to `port` with `drops` drops. */
const socketLine = (sl: number, port: number, drops: number) =>
  ` ${sl}: 00000000:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${1000 + sl} 2 0000000000000000 ${drops}`;

function backendOn(files: string[], config: Record<string, unknown> = {}) {
  const module = { exports: {} as { init: (t: number, c: unknown, e: EventEmitter, l: unknown) => boolean } };
  new Function("module", "exports", "require", statsdUdpDropsBackendJs())(module, module.exports, require);
  const events = new EventEmitter();
  assert.equal(module.exports.init(0, { port: 8125, flushInterval: 10_000, udpDropsProcFiles: files, ...config }, events, { log() {} }), true);
  return () => {
    const metrics = { counters: {} as Record<string, number>, counter_rates: {} as Record<string, number> };
    events.emit("flush", 0, metrics);
    return metrics;
  };
}

describe("statsd's drops backend", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-udp-"));
  const udp = path.join(dir, "udp");
  const udp6 = path.join(dir, "udp6");

  it("adds the increase of the drops on statsd's port since the last flush, from IPv4 and IPv6 sockets, with its rate per second", () => {
    writeFileSync(udp, [HEADER, socketLine(0, 8125, 40), socketLine(1, 8126, 999), socketLine(2, 53, 7)].join("\n"));
    writeFileSync(udp6, [HEADER, socketLine(0, 8125, 2)].join("\n"));
    const flush = backendOn([udp, udp6]);
    assert.deepEqual(flush(), { counters: { "statsd.udp_receive_buffer_drops": 42 }, counter_rates: { "statsd.udp_receive_buffer_drops": 4.2 } });
    writeFileSync(udp, [HEADER, socketLine(0, 8125, 140)].join("\n"));
    assert.deepEqual(flush(), { counters: { "statsd.udp_receive_buffer_drops": 100 }, counter_rates: { "statsd.udp_receive_buffer_drops": 10 } });
    assert.deepEqual(flush().counters, { "statsd.udp_receive_buffer_drops": 0 });
  });

  it("counts a new socket's drops from 0 (statsd restarted), and a missing file as no socket", () => {
    writeFileSync(udp, [HEADER, socketLine(0, 8125, 500)].join("\n"));
    const flush = backendOn([udp, path.join(dir, "absent")]);
    assert.equal(flush().counters["statsd.udp_receive_buffer_drops"], 500);
    writeFileSync(udp, [HEADER, socketLine(0, 8125, 3)].join("\n"));
    assert.equal(flush().counters["statsd.udp_receive_buffer_drops"], 3);
  });

  it("reads the port of statsd's first server and files the counter under its prefixStats", () => {
    writeFileSync(udp, [HEADER, socketLine(0, 9999, 5), socketLine(1, 8125, 1)].join("\n"));
    const flush = backendOn([udp], { servers: [{ server: "./servers/udp", port: 9999 }], prefixStats: "own" });
    assert.deepEqual(flush().counters, { "own.udp_receive_buffer_drops": 5 });
  });
});
