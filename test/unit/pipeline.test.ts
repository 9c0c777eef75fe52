/** The generated pipeline files and dashboards, from the one metric catalog. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { LATENCY_BUCKETS_SECONDS } from "../../app/src/metrics/catalog";
import { routes } from "../../app/src/routes";
import { exporterMapping, exporterMappingYaml } from "../../pipeline/exporter";
import { parseRetentions, RETENTIONS, statsdConfigJs, storageSchemasConf } from "../../pipeline/graphite";
import { datasourcesYaml } from "../../pipeline/grafana";
import { STATSD_FLUSH_SECONDS } from "../../pipeline/settings";
import { graphiteDashboard } from "../../dashboards/graphite";
import { panelByTitle, queryOf } from "../../dashboards/model";
import { prometheusDashboard } from "../../dashboards/prometheus";

describe("statsd_exporter mapping", () => {
  it("maps the catalog's three metrics to Prometheus names and drops nothing", () => {
    const mapping = exporterMapping("sample_api");
    assert.deepEqual(
      mapping.mappings.map((m) => [m.match, m.name, m.match_metric_type, "action" in m ? m.action : "map"]),
      [
        ["sample_api.http_request_duration_ms", "http_request_duration_seconds", "observer", "map"],
        ["sample_api.http_requests", "http_requests_total", "counter", "map"],
        ["sample_api.app_info", "app_info", "gauge", "map"],
      ],
    );
  });

  it("expires the info gauge's series after four missed re-sends, and no other series", () => {
    const mapping = exporterMapping("sample_api");
    assert.deepEqual(mapping.mappings.map((m) => m.ttl), ["876000h", "876000h", "60s"]);
    assert.equal(mapping.defaults.ttl, "24h");
  });

  it("gives every metric no mapping names statsd_exporter's own defaults but the TTL: a summary for an observer, glob matching, gone after 24h idle", () => {
    assert.deepEqual(parse(exporterMappingYaml("sample_api")).defaults, { observer_type: "summary", match_type: "glob", ttl: "24h" });
  });

  it("exporterOwnMetricsTtl 0s keeps statsd_exporter's own default for a team's series, never expiring, and the catalog's as they are", () => {
    const mapping = exporterMapping("sample_api", "0s");
    assert.deepEqual([mapping.defaults.ttl, ...mapping.mappings.map((m) => m.ttl)], ["0s", "876000h", "876000h", "60s"]);
  });

  it("refuses a TTL statsd_exporter would not parse as one (a day unit)", () => {
    assert.throws(() => exporterMapping("sample_api", "1d"), { message: 'not a statsd_exporter ttl: "1d"' });
  });

  it("makes only the catalog's timer a histogram, with the catalog's latency buckets, so a team's |h or |d keeps its unit's quantiles", () => {
    const histograms = exporterMapping("sample_api").mappings.flatMap((m) =>
      "histogram_options" in m ? [[m.match, m.observer_type, m.histogram_options?.buckets]] : [],
    );
    assert.deepEqual(histograms, [["sample_api.http_request_duration_ms", "histogram", [...LATENCY_BUCKETS_SECONDS]]]);
  });

  it("observes latency as a histogram with buckets from 1 ms to 10 s", () => {
    const timer = exporterMapping("sample_api").mappings[0] as any;
    assert.equal(timer.observer_type, "histogram");
    assert.deepEqual(timer.histogram_options.buckets, [...LATENCY_BUCKETS_SECONDS]);
    assert.equal(timer.histogram_options.buckets[0], 0.001);
    assert.equal(timer.histogram_options.buckets.at(-1), 10);
  });
});

describe("graphite settings", () => {
  it("statsd flushes once per finest carbon bucket and computes the dashboards' percentiles", () => {
    const config = new Function(`return ${statsdConfigJs({ graphiteHost: "127.0.0.1", graphitePort: 2003, port: 8125, mgmtPort: 8126 }).replace(/^\/\/.*\n/, "")}`)();
    assert.equal(config.flushInterval, STATSD_FLUSH_SECONDS * 1000);
    assert.deepEqual(config.percentThreshold, [50, 90, 99]);
    assert.equal(RETENTIONS.split(",")[0], `${STATSD_FLUSH_SECONDS}s:6h`);
    assert.match(storageSchemasConf(), /\[statsd\]\npattern = \^stats\(_counts\)\?\\\.\nretentions = 10s:6h,1m:7d,10m:1y/);
  });
});

describe("grafana provisioning", () => {
  it("lists only the given datasources, the first as default, and prunes the rest", () => {
    const parsed = parse(datasourcesYaml([{ name: "Prometheus", uid: "u", type: "prometheus", url: "http://prometheus:9090" }]));
    assert.equal(parsed.prune, true);
    assert.deepEqual(parsed.datasources.map((d: any) => [d.name, d.uid, d.isDefault]), [["Prometheus", "u", true]]);
  });
});

describe("dashboards", () => {
  const prom = prometheusDashboard();
  const graphite = graphiteDashboard("sample_api");
  const queries = (d: typeof prom) => d.panels.flatMap((p) => p.targets.map(queryOf));

  it("have stable uids", () => {
    assert.deepEqual([prom.uid, graphite.uid], ["statsd-stack-prometheus", "statsd-stack-graphite"]);
  });

  it("hard-code no route value in any query", () => {
    for (const q of [...queries(prom), ...queries(graphite)]) {
      for (const route of routes.keys()) if (route !== "/") assert.ok(!q.includes(route.slice(1)), `${route} in ${q}`);
    }
  });

  it("filter every Prometheus query by the app_name variable fed by the info gauge", () => {
    for (const q of queries(prom)) assert.match(q, /app_name="\$app_name"/);
    assert.equal(prom.templating.list[0]!.definition, "label_values(app_info, app_name)");
  });

  it("show stat panels as exact increases over the dashboard's range (anchored), never a raw cumulative counter", () => {
    for (const panel of prom.panels.filter((p) => p.type === "stat" && p.title !== "Version")) {
      const query = queryOf(panel.targets[0]!);
      assert.match(query, /increase\([^)]*\[\$__range\] anchored\)/, panel.title);
      assert.doesNotMatch(query, /\[\$__range\]\)/, `${panel.title}: an increase without anchored`);
    }
  });

  it("estimate latency percentiles from the histogram with histogram_quantile", () => {
    const latency = panelByTitle(prom, "Latency percentiles");
    assert.deepEqual(latency.targets.map((t) => ("legendFormat" in t ? t.legendFormat : "")), ["p50", "p90", "p99"]);
    for (const t of latency.targets) assert.match(queryOf(t), /^histogram_quantile\(0\.\d+, sum by \(le\) \(rate\(http_request_duration_seconds_bucket/);
  });

  it("query Graphite through the prefix variable only", () => {
    for (const q of queries(graphite)) assert.match(q, /\$prefix/);
    assert.deepEqual(graphite.templating.list[0]!.current, { text: "sample_api", value: "sample_api" });
  });
});

describe("carbon retentions (config graphiteRetentions)", () => {
  it("parses precision:duration pairs into whisper archives, a unit-less duration being a number of points", () => {
    assert.deepEqual(parseRetentions("10s:6h,1m:7d,10m:1y"), {
      archives: [
        { precision: 10, points: 2160 },
        { precision: 60, points: 10080 },
        { precision: 600, points: 52560 },
      ],
    });
    assert.deepEqual(parseRetentions("10s:360,1h:30d"), { archives: [{ precision: 10, points: 360 }, { precision: 3600, points: 720 }] });
  });

  it("refuses an archive too short to roll up into the next (whisper would refuse to create the file)", () => {
    assert.deepEqual(parseRetentions("10s:30s,1m:1d"), { problem: "the 10s archive keeps fewer points than one 60s point rolls up" });
  });

  it("refuses a duration that is not a whole number of points", () => {
    assert.deepEqual(parseRetentions("10s:6h,7m:1h"), { problem: '"7m:1h": the duration must be a whole, non-zero number of 420s points' });
  });

  it("writes the configured retentions into every schema, carbon's own series included", () => {
    const conf = storageSchemasConf("10s:1d,5m:90d");
    assert.deepEqual([...conf.matchAll(/^retentions = (.*)$/gm)].map((m) => m[1]), ["10s:1d,5m:90d", "10s:1d,5m:90d", "10s:1d,5m:90d"]);
  });

  it("the default is valid", () => {
    assert.ok("archives" in parseRetentions(RETENTIONS));
  });
});
