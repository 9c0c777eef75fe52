/**
 * The flood guard on the graphite topology, on the real Etsy statsd (npm `statsd` 0.9.0, the image's) with the
 * program's config and the generated expiry backend (pipeline/statsd-expiry.ts): a team's names stop being written
 * once no line has named them for `graphiteOwnMetricsExpiry`, the catalog's request counter keeps being written as 0,
 * and a name sent again comes back. carbon is a TCP listener here: statsd's graphite backend opens one connection per
 * flush, so each connection is one flush, received at a known time.
 *
 * The expiry is 2 s and statsd flushes every second instead of the program's 10 s: the expiry counts time, the flush
 * only decides when a name past it is dropped, and a 1 s flush sees the whole story (written, written as idle,
 * forgotten, gone for several flushes, back) in about 6 s instead of a minute.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { graphitePaths, statsdConfigJs } from "../../pipeline/graphite";
import { statsdExpiryBackendJs, statsdExpirySettings } from "../../pipeline/statsd-expiry";
import { freeTcpPort, freeTcpUdpPort, ProcessGroup } from "../../scripts/local/processes";
import { startStatsdProcess } from "../../scripts/local/stacks";
import { sendStatsd } from "../support/udp";

const EXPIRY_SECONDS = 2;
const FLUSH_MS = 1000;

/** One statsd flush as carbon receives it: when, and each series' value. */
interface Flush {
  readonly at: number;
  readonly values: Map<string, number>;
}

describe(`statsd with graphiteOwnMetricsExpiry = ${EXPIRY_SECONDS}s`, () => {
  const group = new ProcessGroup();
  const flushes: Flush[] = [];
  let sink: net.Server;
  let udp = 0;

  before(async () => {
    sink = net.createServer((socket) => {
      let text = "";
      let at = 0;
      socket.on("data", (d) => {
        at ||= Date.now();
        text += d.toString();
      });
      socket.on("end", () => {
        const values = new Map<string, number>();
        for (const line of text.split("\n").filter(Boolean)) {
          const [name, value] = line.split(" ");
          values.set(name!, Number(value));
        }
        flushes.push({ at, values });
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-expiry-"));
    const backendPath = path.join(dir, "own-metrics-expiry.js");
    writeFileSync(backendPath, statsdExpiryBackendJs());
    udp = await freeTcpUdpPort();
    const admin = await freeTcpPort();
    const configPath = path.join(dir, "statsd.js");
    writeFileSync(
      configPath,
      statsdConfigJs({
        graphiteHost: "127.0.0.1",
        graphitePort: (sink.address() as net.AddressInfo).port,
        port: udp,
        mgmtPort: admin,
        listenAddress: "127.0.0.1",
        ownMetricsExpiry: { backendPath, settings: statsdExpirySettings(`${EXPIRY_SECONDS}s`, DEFAULT_METRIC_PREFIX) },
        flushIntervalMs: FLUSH_MS,
      }),
    );
    await startStatsdProcess(group, configPath, admin);
  });
  after(async () => {
    await group.stopAll();
    sink.close();
  });

  it("stops writing a team's counter, gauge, timer and set once idle for the expiry, keeps writing the catalog's counter as 0, and takes a name sent again", async () => {
    const team = { counter: "stats_counts.flood_test.orders", gauge: "stats.gauges.flood_test.queue", timer: "stats.timers.flood_test.latency.count", set: "stats.sets.flood_test.users.count" };
    const catalogCounter = `${graphitePaths(DEFAULT_METRIC_PREFIX).requestCounts}.root.GET.200`;
    const sentAt = Date.now();
    await sendStatsd(udp, ["flood_test.orders:1|c", "flood_test.queue:42|g", "flood_test.latency:5|ms", "flood_test.users:u1|s", `${DEFAULT_METRIC_PREFIX}.http_requests.root.GET.200:1|c`].join("\n"));
    const after = (t: number) => flushes.filter((f) => f.at >= t);
    const teamNames = Object.values(team);
    const withoutTeam = (f: Flush) => f.values.has(catalogCounter) && teamNames.every((n) => !f.values.has(n));

    // Bounded: the expiry, a flush, and room for a loaded machine; then three flushes more without the team's names.
    assert.ok(await waitFor(() => after(sentAt).filter(withoutTeam).length >= 3, 20_000, 100), `not forgotten: ${JSON.stringify(after(sentAt).map((f) => [...f.values.keys()].filter((k) => k.includes("flood_test"))))}`);
    const seen = after(sentAt).filter((f) => f.values.has(catalogCounter));
    const firstGone = seen.findIndex(withoutTeam);
    const written = seen.slice(0, firstGone);
    assert.ok(written.length >= 1, "the team's names were never written");
    // Written with what they counted, then as idle (counter, timer and set 0, the gauge its value), every flush until forgotten.
    assert.deepEqual(written.map((f) => teamNames.map((n) => f.values.get(n))), written.map((_, i) => (i === 0 ? [1, 42, 1, 1] : [0, 42, 0, 0])));
    // Not before the expiry: statsd got the lines after sentAt, so a name dropped sooner was not idle-dropped.
    const lastWritten = written.at(-1)!.at - sentAt;
    assert.ok(lastWritten >= EXPIRY_SECONDS * 1000, `last written ${lastWritten} ms after it was sent`);
    // Never again once forgotten, while the catalog's counter is written at every flush, 0 after its line's flush.
    assert.ok(seen.slice(firstGone).every(withoutTeam));
    assert.deepEqual(seen.map((f) => f.values.get(catalogCounter)), seen.map((_, i) => (i === 0 ? 1 : 0)));

    const resentAt = Date.now();
    await sendStatsd(udp, "flood_test.orders:3|c\nflood_test.queue:7|g");
    assert.ok(await waitFor(() => after(resentAt).some((f) => f.values.has(team.counter)), 10_000, 100), "a name sent again was not written");
    const back = after(resentAt).find((f) => f.values.has(team.counter))!;
    assert.deepEqual([back.values.get(team.counter), back.values.get(team.gauge), back.values.has(team.timer)], [3, 7, false]);
  });
});
