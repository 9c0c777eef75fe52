/**
 * A team's own additions to the pipeline, as README's "Your own mappings, schemas and rules" sets them: one
 * statsd_exporter mapping, one carbon schema and one aggregation rule, one Prometheus rule file. The program, local
 * and deployment tiers use the same values, and the deployment tiers set them with `pulumi config set --path`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../../app/src/tools/wait";
import { parseRetentions, type RetentionArchive } from "../../pipeline/graphite";
import { PROMETHEUS_OWN_RULES_PATH } from "../../pipeline/prometheus";
import { getJson, parseMetricsText } from "../../scripts/checks/backends";
import { whisperFile, whisperInfo } from "../../scripts/local/carbon";
import type { PulumiProject } from "./pulumi-cli";
import { sendStatsd } from "./udp";

/** `checkout.<region>.orders` counters become `checkout_orders_total{region="<region>"}`. */
export const TEAM_MAPPINGS = [{ match: "checkout.*.orders", name: "checkout_orders_total", match_metric_type: "counter", labels: { region: "$1" } }];
/** The line a team's service sends, and the series statsd_exporter must then serve. */
export const TEAM_LINE = { line: "checkout.eu.orders:2|c", series: 'checkout_orders_total{region="eu"}', value: 2 } as const;

/** The team's series (counts, rates, gauges under `checkout.`) keep a day of 10 s points and 30 days of minutes. */
export const TEAM_SCHEMAS = [{ name: "checkout", pattern: "^stats(_counts|\\.gauges)?\\.checkout\\.", retentions: "10s:1d,1m:30d" }];
/** The team's gauges keep the highest value of each minute, with half of the minute's points needed. */
export const TEAM_AGGREGATION = [{ name: "checkout_gauges", pattern: "^stats\\.gauges\\.checkout\\.", method: "max", xFilesFactor: 0.5 }];
/** What statsd writes for the team's lines (`checkout.orders:1|c`, `checkout.queue:5|g`), and the files carbon must create. */
export const TEAM_GRAPHITE = {
  lines: ["checkout.orders:1|c", "checkout.queue:5|g"],
  count: "stats_counts.checkout.orders",
  gauge: "stats.gauges.checkout.queue",
} as const;

export function teamArchives(): Array<{ secondsPerPoint: number; points: number }> {
  const parsed = parseRetentions(TEAM_SCHEMAS[0]!.retentions) as { archives: RetentionArchive[] };
  return parsed.archives.map((a) => ({ secondsPerPoint: a.precision, points: a.points }));
}

/** The team's rule group: a recording rule over its mapped counter and an alert on it (one the tests' traffic never fires: the deployment tiers' alert scenario expects only its own notifications). */
export const TEAM_RULE_GROUP = "checkout";
export const TEAM_RULES_YAML = `# The checkout team's rules (README: Your own mappings, schemas and rules).
groups:
  - name: ${TEAM_RULE_GROUP}
    rules:
      - record: region:checkout_orders:rate5m
        expr: sum by (region) (rate(checkout_orders_total[5m]))
      - alert: CheckoutOrdersSurge
        expr: region:checkout_orders:rate5m > 100
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.region }}: over 100 checkout orders a second for 5 minutes"
`;
/** Where the deployment tiers put the rule file, relative to the project folder (as README's example). */
export const TEAM_RULES_FILE = "rules/checkout.yml";

/** The extensions as stack config values for runProgram (structured keys as the engine passes them: JSON text). */
export function teamOverrides(topology: "graphite" | "exporter", rulesFile: string): Record<string, string> {
  return topology === "exporter"
    ? { exporterMappings: JSON.stringify(TEAM_MAPPINGS), prometheusRulesFile: rulesFile }
    : { graphiteSchemas: JSON.stringify(TEAM_SCHEMAS), graphiteAggregation: JSON.stringify(TEAM_AGGREGATION) };
}

/** `pulumi config set --path` of every field of `items` under `key`, as README shows. */
async function setList(project: PulumiProject, stack: string, key: string, items: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const leaves = (value: unknown, at: string): Array<[string, string]> =>
    value !== null && typeof value === "object" ? Object.entries(value).flatMap(([k, v]) => leaves(v, `${at}.${k}`)) : [[at, String(value)]];
  for (const [i, item] of items.entries()) {
    for (const [at, value] of leaves(item, `${key}[${i}]`)) await project.must(["config", "set", "--path", at, value, "--stack", stack]);
  }
}

/**
 * Sets the team's extensions on a new stack of the deployment tiers: on the exporter stack the mapping and the rule
 * file (written into the project copy, where `pulumi up` reads it), on the graphite stack the schema and aggregation.
 */
export async function configureTeamExtensions(project: PulumiProject, stack: "graphite" | "exporter"): Promise<void> {
  if (stack === "exporter") {
    await setList(project, stack, "exporterMappings", TEAM_MAPPINGS);
    mkdirSync(path.join(project.dir, path.dirname(TEAM_RULES_FILE)), { recursive: true });
    writeFileSync(path.join(project.dir, TEAM_RULES_FILE), TEAM_RULES_YAML);
    await project.must(["config", "set", "prometheusRulesFile", TEAM_RULES_FILE, "--stack", stack]);
  } else {
    await setList(project, stack, "graphiteSchemas", TEAM_SCHEMAS);
    await setList(project, stack, "graphiteAggregation", TEAM_AGGREGATION);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What the deployment tiers check on the deployed stacks.

/**
 * Sends the team's line to a deployed exporter stack's StatsD port and returns the series statsd_exporter then
 * serves under the mapped name (label set -> value), waiting up to 60 s; empty when it never appears.
 */
export async function deployedTeamSeries(statsdPort: number, metricsUrl: string): Promise<Array<[string, number]>> {
  await sendStatsd(statsdPort, TEAM_LINE.line);
  let series: Array<[string, number]> = [];
  await waitFor(async () => {
    series = [...parseMetricsText(await (await fetch(metricsUrl)).text(), "checkout_orders_total")];
    return series.length > 0;
  }, 60_000, 1000);
  return series;
}

/** The team's rule group as a deployed Prometheus has loaded it: its file and each rule's name and health, once all were evaluated (up to 60 s). */
export async function deployedTeamRules(prometheusUrl: string): Promise<{ file: string; rules: string[] } | undefined> {
  type Rules = { data: { groups: Array<{ name: string; file: string; rules: Array<{ name: string; health: string; lastEvaluation: string }> }> } };
  let found: { file: string; rules: string[] } | undefined;
  await waitFor(async () => {
    const group = (await getJson<Rules>(`${prometheusUrl}/api/v1/rules`)).data.groups.find((g) => g.name === TEAM_RULE_GROUP);
    found = group && { file: group.file, rules: group.rules.map((r) => `${r.name} ${r.health}`) };
    return group !== undefined && group.rules.every((r) => r.health === "ok" && !r.lastEvaluation.startsWith("0001"));
  }, 60_000, 1000);
  return found;
}
/** What {@link deployedTeamRules} must find. */
export const EXPECTED_TEAM_RULES = { file: PROMETHEUS_OWN_RULES_PATH, rules: ["region:checkout_orders:rate5m ok", "CheckoutOrdersSurge ok"] };

/**
 * Sends the team's lines to a deployed graphite stack's StatsD port and reads the headers of the whisper files carbon
 * creates for them (their archives and rollup), through `exec` (docker exec or kubectl exec into graphite-statsd).
 * Waits up to 90 s for statsd's flush and carbon's create.
 */
export async function deployedTeamWhisperInfo(statsdPort: number, exec: (...cmd: string[]) => Promise<string>): Promise<Array<ReturnType<typeof whisperInfo>>> {
  for (const line of TEAM_GRAPHITE.lines) await sendStatsd(statsdPort, line);
  const files = [TEAM_GRAPHITE.count, TEAM_GRAPHITE.gauge].map((series) => whisperFile("/opt/graphite/storage/whisper", series));
  const copies = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-whisper-"));
  try {
    const created = await waitFor(async () => {
      try {
        await exec("ls", ...files);
        return true;
      } catch {
        return false;
      }
    }, 90_000, 2000);
    if (!created) throw new Error(`carbon created none or not all of ${files.join(", ")} within 90 s`);
    return await Promise.all(
      files.map(async (file, i) => {
        const copy = path.join(copies, `${i}.wsp`);
        writeFileSync(copy, Buffer.from(await exec("base64", file), "base64"));
        return whisperInfo(copy);
      }),
    );
  } finally {
    rmSync(copies, { recursive: true, force: true });
  }
}
/** What {@link deployedTeamWhisperInfo} must find: the team's archives, a count summed and the gauge's own rollup. */
export function expectedTeamWhisperInfo(): Array<ReturnType<typeof whisperInfo>> {
  return [
    { aggregationMethod: "sum", xFilesFactor: 0, archives: teamArchives() },
    { aggregationMethod: "max", xFilesFactor: 0.5, archives: teamArchives() },
  ];
}
