/**
 * The graphite topology's flood guard (pipeline/statsd-expiry.ts): statsd's config lists the backend after the
 * graphite backend, and the generated backend, driven as stats.js drives it (a `packet` per datagram, a `flush` with
 * statsd's own maps), forgets exactly the names outside the catalog idle for the expiry. On the real statsd:
 * test/local/statsd-expiry.test.ts.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it, mock } from "node:test";
import { statsdConfigJs } from "../../pipeline/graphite";
import { expirySeconds, STATSD_EXPIRY_BACKEND_PATH, statsdExpiryBackendJs, statsdExpirySettings, type StatsdExpirySettings } from "../../pipeline/statsd-expiry";

const evalConfig = (js: string) => new Function(`return ${js.replace(/^\/\/.*\n/, "")}`)();
const base = { graphiteHost: "127.0.0.1", graphitePort: 2003, port: 8125, mgmtPort: 8126 };

/** The generated module, loaded as statsd loads a backend, with its settings in statsd's config. */
function loadBackend(settings: StatsdExpirySettings, extra: Record<string, unknown> = {}) {
  const module = { exports: {} as { init: (t: number, c: object, e: EventEmitter, l: object) => boolean } };
  new Function("module", "exports", "require", statsdExpiryBackendJs())(module, module.exports, require);
  const events = new EventEmitter();
  const logged: string[] = [];
  assert.equal(module.exports.init(0, { ownMetricsExpiry: settings, ...extra }, events, { log: (m: string) => logged.push(m) }), true);
  const maps = { counters: {} as Record<string, number>, gauges: {} as Record<string, number>, timers: {} as Record<string, number[]>, timer_counters: {} as Record<string, number>, sets: {} as Record<string, object> };
  return {
    events,
    logged,
    maps,
    /** What statsd does with a datagram: the packet event, then (here, simply) a 1 into every map under `key`. */
    send(datagram: string, ...keys: string[]) {
      events.emit("packet", Buffer.from(datagram), { address: "127.0.0.1", port: 1 });
      for (const key of keys) {
        maps.counters[key] = 1;
        maps.gauges[key] = 1;
        maps.timers[key] = [1];
        maps.timer_counters[key] = 1;
        maps.sets[key] = {};
      }
    },
    flush: () => events.emit("flush", 0, maps),
    status: () => {
      const out: Record<string, number> = {};
      events.emit("status", (_err: unknown, _name: string, stat: string, value: number) => (out[stat] = value));
      return out;
    },
  };
}

describe("statsd's flood guard (graphiteOwnMetricsExpiry)", () => {
  it("lists the backend after statsd's graphite backend, with the expiry and the catalog's names to keep", () => {
    const config = evalConfig(statsdConfigJs({ ...base, ownMetricsExpiry: { backendPath: STATSD_EXPIRY_BACKEND_PATH, settings: statsdExpirySettings("24h", "sample_api") } }));
    assert.deepEqual(config.backends, ["./backends/graphite", "/opt/statsd/backends/own-metrics-expiry.js"]);
    assert.deepEqual(config.ownMetricsExpiry, { seconds: 86_400, keep: ["sample_api.http_request_duration_ms", "sample_api.http_requests", "sample_api.app_info"] });
    // statsd's own defaults stay as they are: idle names still read 0 (counters) or their value (gauges) until expiry.
    assert.equal(config.deleteIdleStats, false);
    assert.equal(config.deleteGauges, false);
  });

  it("0s lists no backend: statsd keeps every name, its own default", () => {
    const config = evalConfig(statsdConfigJs({ ...base, ownMetricsExpiry: { backendPath: STATSD_EXPIRY_BACKEND_PATH, settings: statsdExpirySettings("0s", "sample_api") } }));
    assert.equal(config.backends, undefined);
    assert.equal(config.ownMetricsExpiry, undefined);
  });

  it("reads Go durations in whole hours, minutes and seconds", () => {
    assert.deepEqual(["24h", "90m", "1h30m", "2s", "0s", "0"].map(expirySeconds), [86_400, 5400, 5400, 2, 0, 0]);
    assert.deepEqual(["1d", "3600", "", "1.5h", "-1s", "1h 30m"].map(expirySeconds), [undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it("forgets from every map the names outside the catalog idle for the expiry, at the first flush after it, and no other", () => {
    mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    try {
      const b = loadBackend(statsdExpirySettings("2s", "sample_api"));
      b.send("team.orders:1|c\nteam.queue:5|g", "team.orders", "team.queue");
      b.send("sample_api.http_requests.root.GET.200:1|c", "sample_api.http_requests.root.GET.200");
      b.maps.counters["statsd.packets_received"] = 3; // statsd's own, never sent by a client here
      mock.timers.tick(1999);
      b.send("team.fresh:1|c", "team.fresh");
      b.flush();
      assert.deepEqual(Object.keys(b.maps.counters).sort(), ["sample_api.http_requests.root.GET.200", "statsd.packets_received", "team.fresh", "team.orders", "team.queue"]);
      mock.timers.tick(1);
      b.flush();
      for (const map of Object.values(b.maps)) {
        assert.ok(!("team.orders" in map) && !("team.queue" in map), `forgotten: ${Object.keys(map).join(", ")}`);
        assert.ok("team.fresh" in map && "sample_api.http_requests.root.GET.200" in map);
      }
      assert.equal(b.maps.counters["statsd.packets_received"], 3);
      assert.deepEqual(b.status(), { tracked: 1, forgotten: 2 });
      assert.deepEqual(b.logged, ["ownMetricsExpiry: forgot 2 names idle for 2 s"]);
      // A forgotten name sent again is tracked again, and forgotten again after the expiry.
      b.send("team.orders:1|c", "team.orders");
      mock.timers.tick(2000);
      b.flush();
      assert.ok(!("team.orders" in b.maps.counters) && !("team.fresh" in b.maps.counters));
      assert.deepEqual(b.status(), { tracked: 0, forgotten: 4 });
    } finally {
      mock.timers.reset();
    }
  });

  it("files a line under the name stats.js gives it: tags appended as ;k=v, then sanitized", () => {
    mock.timers.enable({ apis: ["Date"], now: 0 });
    try {
      const b = loadBackend(statsdExpirySettings("1s", "sample_api"));
      const names = ["a_b-c.d", "checkout.orders;team=payments;canary", "odd;k=v_x", "bare", "sample_api.http_requests_total"];
      // A space and a slash, DogStatsD tags (one without a value), a ';' and ':' in a tag, a line without ':' (a
      // counter of 1 to statsd), a name that only begins like the catalog's.
      b.send("a b/c.d:1|c\ncheckout.orders:2|c|#team:payments,canary\nodd:1|c|#k:v;x\nbare\nsample_api.http_requests_total:1|c\n", ...names);
      b.send("sample_api.http_requests;route=x:1|c\nstatsd.bad_lines_seen:1|c", "sample_api.http_requests;route=x", "statsd.bad_lines_seen");
      mock.timers.tick(1000);
      b.flush();
      assert.deepEqual(Object.keys(b.maps.counters).sort(), ["sample_api.http_requests;route=x", "statsd.bad_lines_seen"]);
      assert.deepEqual(b.status(), { tracked: 0, forgotten: names.length });
    } finally {
      mock.timers.reset();
    }
  });

  it("with keyNameSanitize off, files names as sent", () => {
    mock.timers.enable({ apis: ["Date"], now: 0 });
    try {
      const b = loadBackend(statsdExpirySettings("1s", "sample_api"), { keyNameSanitize: false });
      b.send("a b/c:1|c", "a b/c");
      mock.timers.tick(1000);
      b.flush();
      assert.deepEqual(b.maps.counters, {});
    } finally {
      mock.timers.reset();
    }
  });
});
