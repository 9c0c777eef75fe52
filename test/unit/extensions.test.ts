/**
 * A team's own mappings, carbon sections and rule file from stack config (pipeline/extensions.ts): read and checked
 * with the rest of the config, before any resource is registered, each problem naming the key's path, the value and
 * what is accepted; then placed in the generated files after (mappings) or before (carbon sections) the program's
 * catch-alls, never changing what the catalog's metrics get.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { readStackConfig, StackConfigError, type ConfigSource } from "../../components/config";
import { exporterMapping } from "../../pipeline/exporter";
import { carbonPatternProblem } from "../../pipeline/extensions";
import { aggregationOf, aggregationRules, storageAggregationConf, storageSchemasConf } from "../../pipeline/graphite";
import { PROMETHEUS_OWN_RULES_FILE, PROMETHEUS_RULES_FILE, prometheusConfig } from "../../pipeline/prometheus";
import { TEAM_AGGREGATION, TEAM_MAPPINGS, TEAM_RULES_YAML, TEAM_SCHEMAS } from "../support/team-extensions";

const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-extensions-"));
const source = (values: Record<string, string>): ConfigSource => ({
  get: (key) => values[key],
  getSecret: (key) => values[key] as unknown as pulumi.Output<string>,
  isSecret: () => false,
});
const read = (values: Record<string, string>) => readStackConfig(source({ topology: "exporter", ...values }), "demo", dir);
function problems(values: Record<string, string>): readonly string[] {
  try {
    read(values);
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  assert.fail("expected a StackConfigError");
}
const json = (value: unknown) => JSON.stringify(value);
const rulesFile = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return name;
};

describe("a team's extensions: reading the config", () => {
  it("reads the mappings, schemas, aggregation rules (numbers given as text, as `pulumi config set --path` stores them) and the rule file", () => {
    const config = read({
      exporterMappings: json([...TEAM_MAPPINGS, { match: "checkout.pay_time", name: "checkout_pay_seconds", match_metric_type: "observer", observer_type: "histogram", histogram_options: { buckets: ["0.1", "1", "10"] }, ttl: "1h" }]),
      graphiteSchemas: json(TEAM_SCHEMAS),
      graphiteAggregation: json([{ ...TEAM_AGGREGATION[0], xFilesFactor: "0.5" }]),
      prometheusRulesFile: rulesFile("team.yml", TEAM_RULES_YAML),
    });
    assert.deepEqual(config.extensions, {
      exporterMappings: [
        { match: "checkout.*.orders", match_metric_type: "counter", name: "checkout_orders_total", labels: { region: "$1" } },
        { match: "checkout.pay_time", match_metric_type: "observer", name: "checkout_pay_seconds", observer_type: "histogram", histogram_options: { buckets: [0.1, 1, 10] }, ttl: "1h" },
      ],
      graphiteSchemas: [{ name: "checkout", pattern: "^stats(_counts|\\.gauges)?\\.checkout\\.", retentions: "10s:1d,1m:30d" }],
      graphiteAggregation: [{ name: "checkout_gauges", pattern: "^stats\\.gauges\\.checkout\\.", method: "max", xFilesFactor: 0.5 }],
      prometheusRules: { path: "team.yml", text: TEAM_RULES_YAML, groups: ["checkout"] },
    });
  });

  it("refuses a structured key that is not a list of objects, and a value that is not JSON", () => {
    assert.deepEqual(problems({ exporterMappings: json({ match: "a" }), graphiteSchemas: json(["x"]), graphiteAggregation: "name: x" }), [
      `statsd-stack:exporterMappings = {"match":"a"} is not valid: expected a list of objects, e.g. pulumi config set --path 'exporterMappings[0].match' 'checkout.*.orders'`,
      `statsd-stack:graphiteSchemas[0] = "x" is not valid: expected an object, e.g. pulumi config set --path 'graphiteSchemas[0].pattern' '^stats_counts\\.checkout\\.'`,
      `statsd-stack:graphiteAggregation = "name: x" is not valid: expected a list of objects, set field by field with pulumi config set --path 'graphiteAggregation[0].FIELD' VALUE (or as JSON text)`,
    ]);
  });

  it("refuses bad mappings, each field with what statsd_exporter accepts, and any that would take the catalog's names", () => {
    const mappings = [
      { match: "checkout..orders", name: "9orders", type: "counter" },
      { match: "sample_api.http_requests", name: "http_requests_total", labels: { x: "1", region: "$2" } },
      { match: "checkout.*", name: "checkout_${2}", match_metric_type: "timer", observer_type: "native", ttl: "1d" },
      { match: "checkout.size", name: "checkout_size", histogram_options: { buckets: [1] } },
      { match: "checkout.size", name: "checkout_size", observer_type: "histogram", histogram_options: { buckets: [5, 1] } },
      { match: "checkout\\.(?=x)", match_type: "regex", name: "checkout" },
      { match: "checkout.*", match_type: "prefix", name: "checkout" },
    ];
    assert.deepEqual(problems({ exporterMappings: json(mappings) }), [
      `statsd-stack:exporterMappings[0].type = "counter" is not valid: expected only the fields match, match_type, match_metric_type, name, labels, help, observer_type, histogram_options, ttl (statsd_exporter's own names: match_metric_type for the event type, histogram_options.buckets for buckets)`,
      `statsd-stack:exporterMappings[0].match = "checkout..orders" is not valid: expected a statsd_exporter glob: dot-separated parts, each * or letters, digits, _ and - (the first part not starting with a digit), e.g. checkout.*.orders`,
      `statsd-stack:exporterMappings[0].name = "9orders" is not valid: expected a Prometheus metric name: letters, digits and _ (not starting with a digit), and $1 or \${1} for the match's first *, e.g. checkout_orders_total`,
      `statsd-stack:exporterMappings[1].match = "sample_api.http_requests" is not valid: expected a name outside the sample API's catalog: sample_api.http_requests is mapped by the catalog, whose mappings come first and win`,
      `statsd-stack:exporterMappings[1].name = "http_requests_total" is not valid: expected a name outside the sample API's catalog (http_request_duration_seconds, http_requests_total, app_info)`,
      `statsd-stack:exporterMappings[1].labels.x = "1" is not valid: expected a label name of at least two letters, digits and _, not starting with a digit or __`,
      `statsd-stack:exporterMappings[1].labels.region = "$2" is not valid: expected references to the match's * parts only: sample_api.http_requests has 0`,
      `statsd-stack:exporterMappings[2].name = "checkout_\${2}" is not valid: expected references to the match's * parts only: checkout.* has 1`,
      `statsd-stack:exporterMappings[2].match_metric_type = "timer" is not valid: expected counter, gauge or observer (timers, histograms and distributions)`,
      `statsd-stack:exporterMappings[2].observer_type = "native" is not valid: expected histogram or summary (the default)`,
      `statsd-stack:exporterMappings[2].ttl = "1d" is not valid: expected a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m (0s: exporterOwnMetricsTtl's, the defaults')`,
      `statsd-stack:exporterMappings[3].histogram_options = {"buckets":[1]} is not valid: expected histogram_options only with observer_type histogram (an observer is a summary by default)`,
      `statsd-stack:exporterMappings[4].histogram_options.buckets = [5,1] is not valid: expected upper bounds as numbers, strictly ascending, e.g. [0.1, 0.5, 1, 5]`,
      `statsd-stack:exporterMappings[5].match = "checkout\\\\.(?=x)" is not valid: expected a regular expression Go's regexp (RE2) compiles (RE2 has no lookahead or lookbehind)`,
      `statsd-stack:exporterMappings[6].match_type = "prefix" is not valid: expected glob (the default) or regex`,
    ]);
  });

  it("refuses bad carbon sections: names, patterns outside the subset Python and JavaScript read alike, patterns over the catalog's series, retentions, methods", () => {
    const schemas = [
      { name: "statsd", pattern: "^stats_counts\\.", retentions: "10s:1d" },
      { name: "checkout", pattern: "(?P<team>checkout)", retentions: "1m:30d" },
      { name: "checkout", pattern: "^checkout\\.", retentions: "10s:1d", rollup: "sum" },
    ];
    const aggregation = [
      { name: "counts", pattern: "checkout{,2}", method: "median", xFilesFactor: "2" },
      { name: "checkout_pct", pattern: "checkout%", method: "max" },
    ];
    assert.deepEqual(problems({ graphiteSchemas: json(schemas), graphiteAggregation: json(aggregation) }), [
      `statsd-stack:graphiteSchemas[0].name = "statsd" is not valid: expected a name no other section has (the program's: carbon, statsd, default)`,
      `statsd-stack:graphiteSchemas[0].pattern = "^stats_counts\\\\." is not valid: expected a pattern for the team's own series: it matches the sample API's stats_counts.sample_api.http_requests.root.GET.200, which keeps the program's settings`,
      `statsd-stack:graphiteSchemas[1].pattern = "(?P<team>checkout)" is not valid: expected a regular expression carbon (Python's re) searches series names with, in the subset README lists, e.g. ^stats_counts\\.checkout\\. (only (...) and (?:...) groups: named groups, lookaround and inline flags are written differently in Python and JavaScript)`,
      `statsd-stack:graphiteSchemas[1].retentions = "1m:30d" is not valid: expected carbon retentions such as 10s:1d,1m:30d (the first (finest) precision must be statsd's flush interval, 10s)`,
      `statsd-stack:graphiteSchemas[2].rollup = "sum" is not valid: expected only the fields name, pattern, retentions`,
      `statsd-stack:graphiteSchemas[2].name = "checkout" is not valid: expected a name no other section has (the program's: carbon, statsd, default)`,
      `statsd-stack:graphiteAggregation[0].name = "counts" is not valid: expected a name no other section has (the program's: carbon_counts, timer_min, timer_max, timer_sum, counts, default_average)`,
      `statsd-stack:graphiteAggregation[0].pattern = "checkout{,2}" is not valid: expected a regular expression carbon (Python's re) searches series names with, in the subset README lists, e.g. ^stats_counts\\.checkout\\. ({ only as a quantifier {m}, {m,} or {m,n} after what it repeats (\\{ for the character))`,
      `statsd-stack:graphiteAggregation[0].method = "median" is not valid: expected one of average, sum, last, max, min`,
      `statsd-stack:graphiteAggregation[0].xFilesFactor = "2" is not valid: expected a number from 0 to 1 (default 0, as the program's)`,
      `statsd-stack:graphiteAggregation[1].pattern = "checkout%" is not valid: expected a regular expression carbon (Python's re) searches series names with, in the subset README lists, e.g. ^stats_counts\\.checkout\\. (no % (carbon's config parser reads it as interpolation))`,
    ]);
  });

  it("carbon patterns: the subset Python's re and JavaScript read alike is accepted, anything else is named", () => {
    for (const ok of ["^stats_counts\\.checkout\\.", "^stats(_counts|\\.gauges)?\\.checkout\\.", "\\.orders$", "^stats\\.timers\\.[a-z_]+\\.(?:p\\d+)$", "[^.]{2,8}\\.x", "a|b"]) {
      assert.equal(carbonPatternProblem(ok), undefined, ok);
    }
    assert.deepEqual(
      ["\\Achk", "(?i)chk", "(a)\\1", "[a-z", "a)", "*a", "a[[b]"].map(carbonPatternProblem),
      [
        "\\A is not in the subset Python and JavaScript read alike (\\d \\w \\s \\b, their capitals, and \\ before punctuation)",
        "only (...) and (?:...) groups: named groups, lookaround and inline flags are written differently in Python and JavaScript",
        "\\1 is not in the subset Python and JavaScript read alike (\\d \\w \\s \\b, their capitals, and \\ before punctuation)",
        "a [ without its ]",
        "Invalid regular expression: /a)/: Unmatched ')'",
        "Invalid regular expression: /*a/: Nothing to repeat",
        "[ inside [...] must be escaped as \\[",
      ],
    );
  });

  it("refuses a rule file that is missing, is not YAML, or reuses the generated group names, with each rule's problem", () => {
    const bad = rulesFile(
      "bad.yml",
      [
        "groups:",
        "  - name: statsd-stack-alerts",
        "    rules:",
        "      - record: app_name:http_requests:rate5m",
        "        expr: sum(rate(x[5m])",
        "        for: 5m",
        "      - alert: Checkout Down",
        "        expr: up == 0",
        "        for: soon",
        "      - expr: up",
        "  - name: checkout",
        "    rules: []",
        "",
      ].join("\n"),
    );
    const prefix = `statsd-stack:prometheusRulesFile = "bad.yml" is not valid: expected a rule file Prometheus loads beside the generated one, but`;
    assert.deepEqual(problems({ prometheusRulesFile: bad }), [
      `${prefix} groups[0].name = "statsd-stack-alerts" should be a name other than the generated groups' (statsd-stack-recording, statsd-stack-alerts)`,
      `${prefix} groups[0].rules[0].record = "app_name:http_requests:rate5m" should be a series the generated rules do not record`,
      `${prefix} groups[0].rules[0].for = "5m" should be absent in a recording rule`,
      `${prefix} groups[0].rules[0].expr = "sum(rate(x[5m])" should be a PromQL expression (an unclosed ()`,
      `${prefix} groups[0].rules[1].alert = "Checkout Down" should be an alert name: letters, digits and _ (not starting with a digit)`,
      `${prefix} groups[0].rules[1].for = "soon" should be a Prometheus duration such as 30s, 5m or 1h30m`,
      `${prefix} groups[0].rules[2] = {"expr":"up"} should be a rule with either record or alert`,
      `${prefix} groups[1].rules = [] should be a list of rules`,
    ]);
    assert.deepEqual(problems({ prometheusRulesFile: "nowhere/rules.yml" }), [
      `statsd-stack:prometheusRulesFile = "nowhere/rules.yml" is not valid: expected a YAML file of Prometheus rule groups, relative to the project folder: there is no such file (${path.join(dir, "nowhere/rules.yml")})`,
    ]);
    assert.deepEqual(problems({ prometheusRulesFile: rulesFile("flow.yml", "groups: [") }), [
      `statsd-stack:prometheusRulesFile = "flow.yml" is not valid: expected a YAML file of Prometheus rule groups (groups: [{name, rules: [{record or alert, expr, ...}]}]): it is not YAML (Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 10:)`,
    ]);
    assert.deepEqual(problems({ prometheusRulesFile: rulesFile("empty.yml", "rules: []\n") }), [
      `statsd-stack:prometheusRulesFile = "empty.yml" is not valid: expected a YAML file of Prometheus rule groups (groups: [{name, rules: [{record or alert, expr, ...}]}]): it has no list of groups`,
    ]);
  });

  it("reports the extensions' problems together with the other keys'", () => {
    assert.deepEqual(problems({ platform: "swarm", graphiteSchemas: json([{ name: "x", pattern: "^x\\.", retentions: "10s:1d" }]), exporterMappings: json([{ match: "a.b" }]) }), [
      'statsd-stack:platform = "swarm" is not valid: expected one of docker, kubernetes',
      `statsd-stack:exporterMappings[0].name = undefined is not valid: expected a Prometheus metric name: letters, digits and _ (not starting with a digit), and $1 or \${1} for the match's first *, e.g. checkout_orders_total`,
    ]);
  });
});

describe("a team's extensions: where they land in the generated files", () => {
  it("the mappings come after every catalog mapping, unchanged, so the catalog's are matched first", () => {
    const plain = exporterMapping("sample_api", "24h");
    const extended = exporterMapping("sample_api", "24h", TEAM_MAPPINGS as never);
    assert.deepEqual(extended.mappings.slice(0, plain.mappings.length), plain.mappings);
    assert.deepEqual(extended.mappings.slice(plain.mappings.length), TEAM_MAPPINGS);
    assert.deepEqual(extended.defaults, plain.defaults);
  });

  it("the team's schema sits after carbon's own and before statsd's and the catch-all: carbon takes the first that matches", () => {
    const sections = (conf: string) => [...conf.matchAll(/^\[(.+)\]$/gm)].map((m) => m[1]);
    const conf = storageSchemasConf("10s:6h,1m:7d,10m:1y", TEAM_SCHEMAS);
    assert.deepEqual(sections(conf), ["carbon", "checkout", "statsd", "default"]);
    assert.match(conf, /^\[checkout\]\npattern = \^stats\(_counts\|\\\.gauges\)\?\\\.checkout\\\.\nretentions = 10s:1d,1m:30d$/m);
    // Without extensions the file is byte for byte what it was, so an upgrade rolls nothing.
    assert.equal(storageSchemasConf("10s:6h,1m:7d,10m:1y", []), storageSchemasConf("10s:6h,1m:7d,10m:1y"));
  });

  it("the team's aggregation rule sits after carbon's counts and before statsd's rules and the catch-all, with its own xFilesFactor", () => {
    const own = TEAM_AGGREGATION.map((a) => ({ ...a, method: a.method as "max" }));
    const conf = storageAggregationConf(own);
    assert.deepEqual([...conf.matchAll(/^\[(.+)\]$/gm)].map((m) => m[1]), ["carbon_counts", "checkout_gauges", "timer_min", "timer_max", "timer_sum", "counts", "default_average"]);
    assert.match(conf, /^\[checkout_gauges\]\npattern = \^stats\\\.gauges\\\.checkout\\\.\nxFilesFactor = 0\.5\naggregationMethod = max$/m);
    assert.deepEqual(aggregationOf("stats.gauges.checkout.queue", aggregationRules(own)), { method: "max", xFilesFactor: 0.5 });
    assert.deepEqual(aggregationOf("stats_counts.checkout.orders", aggregationRules(own)), { method: "sum", xFilesFactor: 0 });
    assert.equal(storageAggregationConf([]), storageAggregationConf());
  });

  it("prometheus.yml names the team's rule file after the generated one, only when there is one", () => {
    const args = { exporters: { static: "statsd-exporter:9102" }, selfTarget: "localhost:9090" };
    assert.deepEqual(prometheusConfig(args).rule_files, [PROMETHEUS_RULES_FILE]);
    assert.deepEqual(prometheusConfig({ ...args, ownRules: true }).rule_files, [PROMETHEUS_RULES_FILE, PROMETHEUS_OWN_RULES_FILE]);
    assert.deepEqual(parse(TEAM_RULES_YAML).groups.map((g: { name: string }) => g.name), ["checkout"]);
  });
});
