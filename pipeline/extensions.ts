/**
 * A team's own additions to the pipeline, from stack config only (README, "Your own mappings, schemas and rules"):
 * statsd_exporter mappings (config `exporterMappings`), carbon storage schemas and aggregation rules
 * (`graphiteSchemas`, `graphiteAggregation`) and a Prometheus rule file (`prometheusRulesFile`). Each is checked here,
 * before anything is deployed, every problem naming the key (as `pulumi config set --path` spells it), the value given
 * and what is accepted; the generators (exporter.ts, graphite.ts, prometheus.ts) then place them after, or before,
 * the program's own so that they never change what the catalog's metrics get. Pure: the rule file's text is read by
 * components/config.ts.
 */
import { parse } from "yaml";
import { allMetrics, catalog } from "../app/src/metrics/catalog";
import { GO_DURATION } from "./exporter";
import { AGGREGATION_RULES, graphitePaths, parseRetentions, STORAGE_SCHEMA_SECTIONS, type AggregationMethod } from "./graphite";
import { durationMs, prometheusRules, RULE_GROUPS, DEFAULT_ALERT_THRESHOLDS } from "./rules";

/** The config keys, as README's table and the messages name them. */
export const EXTENSION_KEYS = {
  exporterMappings: "exporterMappings",
  graphiteSchemas: "graphiteSchemas",
  graphiteAggregation: "graphiteAggregation",
  prometheusRulesFile: "prometheusRulesFile",
} as const;

/** A problem in the words of components/config.ts: the key's path, the value given, what is accepted. */
export type Problem = (path: string, value: unknown, accepted: string) => void;

const show = (value: unknown) => JSON.stringify(value) ?? String(value);
export const problemText = (path: string, value: unknown, accepted: string) => `statsd-stack:${path} = ${show(value)} is not valid: expected ${accepted}`;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A number as YAML, JSON or `pulumi config set --path` (which stores "0.5" as text) gives it. */
function numberOf(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** `bad`, counting what it reports: `clean()` tells whether an item passed every check so far. */
function counted(bad: Problem): { fail: Problem; clean: () => boolean } {
  let count = 0;
  return {
    fail: (path, value, accepted) => {
      count++;
      bad(path, value, accepted);
    },
    clean: () => count === 0,
  };
}

/** Fields of `obj` outside `allowed`, each reported once. */
function unknownFields(obj: Record<string, unknown>, allowed: readonly string[], at: string, bad: Problem, hint = ""): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) bad(`${at}.${key}`, obj[key], `only the fields ${allowed.join(", ")}${hint}`);
  }
}

/** A list of objects, as `pulumi config set --path 'KEY[0].field' ...` builds it. */
function listOf(key: string, value: unknown, bad: Problem, [field, example]: [string, string]): Record<string, unknown>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    bad(key, value, `a list of objects, e.g. pulumi config set --path '${key}[0].${field}' ${example}`);
    return [];
  }
  return value.flatMap((item, i) => {
    if (isObject(item)) return [item];
    bad(`${key}[${i}]`, item, `an object, e.g. pulumi config set --path '${key}[${i}].${field}' ${example}`);
    return [];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// statsd_exporter mappings

/** A team's statsd_exporter mapping: a subset of statsd_exporter v0.30.0's own fields, under their own names. */
export interface OwnMapping {
  readonly match: string;
  readonly match_type?: "glob" | "regex";
  readonly match_metric_type?: "counter" | "gauge" | "observer";
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly help?: string;
  readonly observer_type?: "histogram" | "summary";
  readonly histogram_options?: { readonly buckets: readonly number[] };
  readonly ttl?: string;
}

const MAPPING_FIELDS = ["match", "match_type", "match_metric_type", "name", "labels", "help", "observer_type", "histogram_options", "ttl"] as const;

/** statsd_exporter's (v0.30.0, pkg/mapper) glob: dot-separated parts, each `*` or a name; the first may not start with a digit. */
const GLOB = /^(\*|[a-zA-Z_][a-zA-Z0-9_-]*)(\.\*|\.[a-zA-Z0-9_][a-zA-Z0-9_-]*)*$/;
/** statsd_exporter's metric name: letters, digits, _ and `$1`/`${1}` references to the glob's `*`s. */
const MAPPED_NAME = /^([a-zA-Z_]|\$\{?\d+\}?)([a-zA-Z0-9_]|\$\{?\d+\}?)*$/;
/** statsd_exporter's label name (at least two characters), without Prometheus's reserved `__` prefix. */
const MAPPED_LABEL = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]+$/;
const REFERENCE = /\$\{?(\d+)\}?/g;

/** The references (`$1`, `${2}`) in a mapping's name or label value that a glob with `stars` `*`s cannot fill. */
const unfilled = (text: string, stars: number) => [...text.matchAll(REFERENCE)].map((m) => Number(m[1])).filter((n) => n < 1 || n > stars);

/**
 * Whether Go's RE2 (statsd_exporter's regexp) and JavaScript read `pattern` alike and it compiles: RE2 has no
 * lookaround and no backreferences; `(?P<name>` is read as JavaScript's `(?<name>`. The real check is
 * `statsd_exporter --check-config` (the local tier runs it on the generated mapping).
 */
function goRegexProblem(pattern: string): string | undefined {
  if (/\(\?<?[=!]/.test(pattern)) return "RE2 has no lookahead or lookbehind";
  if (/\\[1-9]/.test(pattern)) return "RE2 has no backreferences";
  try {
    new RegExp(pattern.replace(/\(\?P</g, "(?<"));
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** The catalog's mappings' matches and names, which a team's may not take (the catalog's come first and win). */
function catalogMappings(prefix: string) {
  return { matches: allMetrics.map((m) => `${prefix}.${m.key}`), names: allMetrics.map((m) => m.prometheusName) };
}

/** Checks config `exporterMappings` (already parsed from JSON); reports through `bad`, returns the good mappings. */
export function checkExporterMappings(value: unknown, prefix: string, bad: Problem): OwnMapping[] {
  const key = EXTENSION_KEYS.exporterMappings;
  const catalogs = catalogMappings(prefix);
  const result: OwnMapping[] = [];
  listOf(key, value, bad, ["match", "'checkout.*.orders'"]).forEach((m, i) => {
    const at = `${key}[${i}]`;
    const { fail, clean } = counted(bad);
    unknownFields(m, MAPPING_FIELDS, at, fail, " (statsd_exporter's own names: match_metric_type for the event type, histogram_options.buckets for buckets)");
    const matchType = m.match_type ?? "glob";
    if (matchType !== "glob" && matchType !== "regex") fail(`${at}.match_type`, matchType, "glob (the default) or regex");
    const match = m.match;
    let stars = Infinity;
    if (typeof match !== "string" || match === "") {
      fail(`${at}.match`, match, "the StatsD names it maps: a glob such as checkout.*.orders (each * one dot-separated part), or a regular expression with match_type regex");
    } else if (matchType === "glob") {
      if (!GLOB.test(match)) {
        fail(`${at}.match`, match, "a statsd_exporter glob: dot-separated parts, each * or letters, digits, _ and - (the first part not starting with a digit), e.g. checkout.*.orders");
      } else if (catalogs.matches.includes(match)) {
        fail(`${at}.match`, match, `a name outside the sample API's catalog: ${match} is mapped by the catalog, whose mappings come first and win`);
      }
      stars = match.split(".").filter((part) => part === "*").length;
    } else if (matchType === "regex") {
      const problem = goRegexProblem(match);
      if (problem !== undefined) fail(`${at}.match`, match, `a regular expression Go's regexp (RE2) compiles (${problem})`);
    }
    const name = m.name;
    if (typeof name !== "string" || !MAPPED_NAME.test(name)) {
      fail(`${at}.name`, name, "a Prometheus metric name: letters, digits and _ (not starting with a digit), and $1 or ${1} for the match's first *, e.g. checkout_orders_total");
    } else if (catalogs.names.includes(name)) {
      fail(`${at}.name`, name, `a name outside the sample API's catalog (${catalogs.names.join(", ")})`);
    } else if (unfilled(name, stars).length > 0) {
      fail(`${at}.name`, name, `references to the match's * parts only: ${match} has ${stars}`);
    }
    if (m.labels !== undefined) {
      if (!isObject(m.labels)) fail(`${at}.labels`, m.labels, "an object of label names and values, e.g. labels.region = $1");
      else {
        for (const [label, labelValue] of Object.entries(m.labels)) {
          if (!MAPPED_LABEL.test(label)) fail(`${at}.labels.${label}`, labelValue, "a label name of at least two letters, digits and _, not starting with a digit or __");
          else if (typeof labelValue !== "string") fail(`${at}.labels.${label}`, labelValue, "a text value, $1 or ${1} for the match's first *");
          else if (unfilled(labelValue, stars).length > 0) fail(`${at}.labels.${label}`, labelValue, `references to the match's * parts only: ${match} has ${stars}`);
        }
      }
    }
    const metricType = m.match_metric_type;
    if (metricType !== undefined && !["counter", "gauge", "observer"].includes(metricType as string)) {
      fail(`${at}.match_metric_type`, metricType, "counter, gauge or observer (timers, histograms and distributions)");
    }
    if (m.help !== undefined && (typeof m.help !== "string" || m.help === "")) fail(`${at}.help`, m.help, "a text");
    const observer = m.observer_type;
    if (observer !== undefined && observer !== "histogram" && observer !== "summary") fail(`${at}.observer_type`, observer, "histogram or summary (the default)");
    let buckets: number[] | undefined;
    if (m.histogram_options !== undefined) {
      const options = m.histogram_options;
      if (observer !== "histogram") {
        fail(`${at}.histogram_options`, options, "histogram_options only with observer_type histogram (an observer is a summary by default)");
      } else if (!isObject(options) || !Array.isArray(options.buckets)) {
        fail(`${at}.histogram_options`, options, "an object with buckets: a list of upper bounds, e.g. histogram_options.buckets[0] = 0.5");
      } else {
        unknownFields(options, ["buckets"], `${at}.histogram_options`, fail);
        const values = options.buckets.map(numberOf);
        if (values.length === 0 || values.some((b) => b === undefined) || values.some((b, j) => j > 0 && b! <= values[j - 1]!)) {
          fail(`${at}.histogram_options.buckets`, options.buckets, "upper bounds as numbers, strictly ascending, e.g. [0.1, 0.5, 1, 5]");
        } else buckets = values as number[];
      }
    }
    if (m.ttl !== undefined && (typeof m.ttl !== "string" || !GO_DURATION.test(m.ttl))) {
      fail(`${at}.ttl`, m.ttl, "a Go duration in whole hours, minutes and seconds, such as 24h, 90m or 1h30m (0s: exporterOwnMetricsTtl's, the defaults')");
    }
    if (clean()) {
      result.push({
        match: match as string,
        ...(m.match_type === undefined ? {} : { match_type: matchType as "glob" | "regex" }),
        ...(metricType === undefined ? {} : { match_metric_type: metricType as OwnMapping["match_metric_type"] }),
        name: name as string,
        ...(m.labels === undefined ? {} : { labels: m.labels as Record<string, string> }),
        ...(m.help === undefined ? {} : { help: m.help as string }),
        ...(observer === undefined ? {} : { observer_type: observer as "histogram" | "summary" }),
        ...(buckets === undefined ? {} : { histogram_options: { buckets } }),
        ...(m.ttl === undefined ? {} : { ttl: m.ttl as string }),
      });
    }
  });
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// carbon storage schemas and aggregation

/** A team's section of storage-schemas.conf. */
export interface OwnSchema {
  readonly name: string;
  readonly pattern: string;
  readonly retentions: string;
}

/** A team's section of storage-aggregation.conf. */
export interface OwnAggregation {
  readonly name: string;
  readonly pattern: string;
  readonly method: AggregationMethod;
  readonly xFilesFactor: number;
}

const SECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const METHODS: readonly AggregationMethod[] = ["average", "sum", "last", "max", "min"];

/**
 * The subset of regular expression syntax that Python's `re` (carbon) and JavaScript read alike, so that the program
 * can compile a carbon pattern here and know what carbon will match: literals, `.`, `^`, `$`, `|`, classes `[...]`,
 * groups `(...)` and `(?:...)`, quantifiers `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` (and their lazy forms), and the
 * escapes `\d \D \w \W \s \S \b \B` and `\` before punctuation. Left out, because the two read them differently or
 * only one has them: named groups, lookaround, inline flags, backreferences, `\A \Z` and other letter escapes,
 * `{,n}`. `%` is refused too: carbon reads its files with Python's ConfigParser, which takes `%` for interpolation.
 */
export function carbonPatternProblem(pattern: string): string | undefined {
  if (pattern !== pattern.trim() || /[\r\n]/.test(pattern)) return "no spaces at either end and no line breaks";
  if (pattern.includes("%")) return "no % (carbon's config parser reads it as interpolation)";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return "a \\ at the end escapes nothing";
      if (/[A-Za-z0-9]/.test(next) && !/[dDwWsSbB]/.test(next)) return `\\${next} is not in the subset Python and JavaScript read alike (\\d \\w \\s \\b, their capitals, and \\ before punctuation)`;
      if (inClass && /[bB]/.test(next)) return `\\${next} inside [...] means different things in Python and JavaScript`;
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
      else if (c === "[") return "[ inside [...] must be escaped as \\[";
    } else if (c === "[") {
      inClass = true;
      if (pattern[i + 1] === "^") i++;
      if (pattern[i + 1] === "]") i++;
    } else if (c === "(" && pattern[i + 1] === "?" && pattern[i + 2] !== ":") {
      return "only (...) and (?:...) groups: named groups, lookaround and inline flags are written differently in Python and JavaScript";
    } else if (c === "{") {
      const quantifier = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
      if (!quantifier || i === 0) return "{ only as a quantifier {m}, {m,} or {m,n} after what it repeats (\\{ for the character)";
      i += quantifier[0].length - 1;
    }
  }
  if (inClass) return "a [ without its ]";
  try {
    new RegExp(pattern);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/**
 * Series names the sample API's metrics take in Graphite, one per kind (a request count and rate, each timer field
 * kind, the info counter): a team's pattern may not match them, so the catalog's series keep the program's schema
 * and rollups.
 */
export function catalogSeriesSamples(prefix: string): string[] {
  const paths = graphitePaths(prefix);
  const route = ".root.GET.200";
  return [
    `${paths.requestCounts}${route}`,
    `${paths.requestRates}${route}`,
    ...["count", "count_ps", "sum", "sum_squares", "lower", "upper", "upper_99", "mean", "median", "std", "mean_90", "sum_90"].map((f) => `${paths.requestTimers}${route}.${f}`),
    `${paths.info}.sample-api.1_0_0`,
    `stats.${prefix}.${catalog.info.key}.sample-api.1_0_0`,
  ];
}

function checkSection(
  key: string,
  item: Record<string, unknown>,
  i: number,
  generated: readonly string[],
  seen: Set<string>,
  prefix: string,
  fail: Problem,
): { name: string; pattern: string } | undefined {
  const at = `${key}[${i}]`;
  let ok = true;
  const name = item.name;
  if (typeof name !== "string" || !SECTION_NAME.test(name)) {
    fail(`${at}.name`, name, "a section name of letters, digits, _ and - (up to 64), e.g. checkout");
    ok = false;
  } else if (generated.includes(name) || seen.has(name)) {
    fail(`${at}.name`, name, `a name no other section has (the program's: ${generated.join(", ")})`);
    ok = false;
  } else seen.add(name);
  const pattern = item.pattern;
  const problem = typeof pattern === "string" && pattern !== "" ? carbonPatternProblem(pattern) : "a non-empty regular expression";
  if (problem !== undefined) {
    fail(`${at}.pattern`, pattern, `a regular expression carbon (Python's re) searches series names with, in the subset README lists, e.g. ^stats_counts\\.checkout\\. (${problem})`);
    ok = false;
  } else {
    const re = new RegExp(pattern as string);
    const taken = catalogSeriesSamples(prefix).find((s) => re.test(s));
    if (taken !== undefined) {
      fail(`${at}.pattern`, pattern, `a pattern for the team's own series: it matches the sample API's ${taken}, which keeps the program's settings`);
      ok = false;
    }
  }
  return ok ? { name: name as string, pattern: pattern as string } : undefined;
}

/** Checks config `graphiteSchemas`: each retentions by {@link parseRetentions} (finest = statsd's flush interval). */
export function checkGraphiteSchemas(value: unknown, prefix: string, bad: Problem): OwnSchema[] {
  const key = EXTENSION_KEYS.graphiteSchemas;
  const seen = new Set<string>();
  const result: OwnSchema[] = [];
  listOf(key, value, bad, ["pattern", "'^stats_counts\\.checkout\\.'"]).forEach((item, i) => {
    const { fail, clean } = counted(bad);
    unknownFields(item, ["name", "pattern", "retentions"], `${key}[${i}]`, fail);
    const section = checkSection(key, item, i, STORAGE_SCHEMA_SECTIONS, seen, prefix, fail);
    const retentions = item.retentions;
    const parsed = typeof retentions === "string" ? parseRetentions(retentions) : { problem: "a text" };
    if ("problem" in parsed) fail(`${key}[${i}].retentions`, retentions, `carbon retentions such as 10s:1d,1m:30d (${parsed.problem})`);
    if (clean() && section) result.push({ ...section, retentions: retentions as string });
  });
  return result;
}

/** Checks config `graphiteAggregation`. */
export function checkGraphiteAggregation(value: unknown, prefix: string, bad: Problem): OwnAggregation[] {
  const key = EXTENSION_KEYS.graphiteAggregation;
  const seen = new Set<string>();
  const result: OwnAggregation[] = [];
  listOf(key, value, bad, ["pattern", "'^stats\\.gauges\\.checkout\\.'"]).forEach((item, i) => {
    const { fail, clean } = counted(bad);
    unknownFields(item, ["name", "pattern", "method", "xFilesFactor"], `${key}[${i}]`, fail);
    const section = checkSection(key, item, i, AGGREGATION_RULES.map((r) => r.name), seen, prefix, fail);
    const method = item.method;
    if (!METHODS.includes(method as AggregationMethod)) fail(`${key}[${i}].method`, method, `one of ${METHODS.join(", ")}`);
    const factor = item.xFilesFactor === undefined ? 0 : numberOf(item.xFilesFactor);
    if (factor === undefined || factor < 0 || factor > 1) fail(`${key}[${i}].xFilesFactor`, item.xFilesFactor, "a number from 0 to 1 (default 0, as the program's)");
    if (clean() && section) result.push({ ...section, method: method as AggregationMethod, xFilesFactor: factor! });
  });
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus rules

/** A team's rule file, checked: its text as given, and its group names. */
export interface OwnRules {
  /** The path as config gave it (relative to the project folder). */
  readonly path: string;
  readonly text: string;
  readonly groups: readonly string[];
}

const RECORD_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const ALERT_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;
const GROUP_FIELDS = ["name", "interval", "query_offset", "limit", "labels", "rules"];
const RULE_FIELDS = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];

/** Whether an expression's brackets and quotes pair up: a sanity check (Prometheus parses it; promtool checks it). */
function bracketProblem(expr: string): string | undefined {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === "`") {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) return `a ${c} without its closing ${c}`;
      // Skip escaped quotes inside "..." and '...'.
      let j = end;
      while (c !== "`" && j > 0 && expr[j - 1] === "\\") {
        const next = expr.indexOf(c, j + 1);
        if (next < 0) return `a ${c} without its closing ${c}`;
        j = next;
      }
      i = j;
    } else if (c === "#") {
      const eol = expr.indexOf("\n", i);
      i = eol < 0 ? expr.length : eol;
    } else if ("([{".includes(c)) stack.push(c);
    else if (c in pairs) {
      if (stack.pop() !== pairs[c]) return `an unmatched ${c}`;
    }
  }
  return stack.length > 0 ? `an unclosed ${stack[stack.length - 1]}` : undefined;
}

/** The names the generated rule file takes: its groups, and its recording rules' series. */
function generatedRuleNames() {
  const generated = prometheusRules({ appName: "x", thresholds: DEFAULT_ALERT_THRESHOLDS, retentionSize: "1GB" });
  return {
    groups: Object.values(RULE_GROUPS) as string[],
    records: generated.groups.flatMap((g) => g.rules.flatMap((r) => ("record" in r ? [r.record] : []))),
    alerts: generated.groups.flatMap((g) => g.rules.flatMap((r) => ("alert" in r ? [r.alert] : []))),
  };
}

/**
 * Checks the text of the file config `prometheusRulesFile` names: YAML with `groups`, each with a name no other group
 * (the generated ones included) has and rules, each rule a `record` or an `alert` with an `expr`, valid names,
 * labels and durations. The expressions themselves are Prometheus's to parse (`promtool check rules FILE` before
 * `pulumi up`); here only their brackets and quotes are checked.
 */
export function checkPrometheusRules(path: string, text: string, bad: Problem): OwnRules | undefined {
  const key = EXTENSION_KEYS.prometheusRulesFile;
  const what = "a YAML file of Prometheus rule groups (groups: [{name, rules: [{record or alert, expr, ...}]}])";
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    bad(key, path, `${what}: it is not YAML (${(err as Error).message.split("\n")[0]})`);
    return undefined;
  }
  if (!isObject(doc) || !Array.isArray(doc.groups) || doc.groups.length === 0) {
    bad(key, path, `${what}: it has no list of groups`);
    return undefined;
  }
  const { fail: report, clean } = counted(bad);
  const fail = (where: string, value: unknown, accepted: string) =>
    report(key, path, `a rule file Prometheus loads beside the generated one, but ${where} = ${show(value)} should be ${accepted}`);
  for (const field of Object.keys(doc)) if (field !== "groups") fail(field, doc[field], "absent: the file holds only groups");
  const taken = generatedRuleNames();
  const seenGroups = new Set<string>();
  const duration = (where: string, v: unknown) => {
    if (v !== undefined && (typeof v !== "string" || durationMs(v) === undefined)) fail(where, v, "a Prometheus duration such as 30s, 5m or 1h30m");
  };
  const labels = (where: string, v: unknown) => {
    if (v === undefined) return;
    if (!isObject(v)) return fail(where, v, "an object of label names and values");
    for (const [name, value] of Object.entries(v)) {
      if (!LABEL_NAME.test(name)) fail(`${where}.${name}`, value, "under a label name: letters, digits and _, not starting with a digit or __");
      else if (typeof value !== "string" && typeof value !== "number") fail(`${where}.${name}`, value, "a text");
    }
  };
  doc.groups.forEach((group: unknown, g) => {
    const at = `groups[${g}]`;
    if (!isObject(group)) return fail(at, group, "an object with name and rules");
    for (const field of Object.keys(group)) if (!GROUP_FIELDS.includes(field)) fail(`${at}.${field}`, group[field], `absent: a group's fields are ${GROUP_FIELDS.join(", ")}`);
    const name = group.name;
    if (typeof name !== "string" || name.trim() === "") fail(`${at}.name`, name, "a group name");
    else if (taken.groups.includes(name)) fail(`${at}.name`, name, `a name other than the generated groups' (${taken.groups.join(", ")})`);
    else if (seenGroups.has(name)) fail(`${at}.name`, name, "a name no other group in the file has");
    else seenGroups.add(name);
    duration(`${at}.interval`, group.interval);
    duration(`${at}.query_offset`, group.query_offset);
    if (group.limit !== undefined && !(Number.isSafeInteger(group.limit) && (group.limit as number) >= 0)) fail(`${at}.limit`, group.limit, "a whole number");
    labels(`${at}.labels`, group.labels);
    if (!Array.isArray(group.rules) || group.rules.length === 0) return fail(`${at}.rules`, group.rules, "a list of rules");
    group.rules.forEach((rule: unknown, r) => {
      const ra = `${at}.rules[${r}]`;
      if (!isObject(rule)) return fail(ra, rule, "an object with record or alert, and expr");
      for (const field of Object.keys(rule)) if (!RULE_FIELDS.includes(field)) fail(`${ra}.${field}`, rule[field], `absent: a rule's fields are ${RULE_FIELDS.join(", ")}`);
      const { record, alert } = rule;
      if ((record === undefined) === (alert === undefined)) fail(ra, rule, "a rule with either record or alert");
      if (record !== undefined) {
        if (typeof record !== "string" || !RECORD_NAME.test(record)) fail(`${ra}.record`, record, "a metric name: letters, digits, _ and : (not starting with a digit)");
        else if (taken.records.includes(record)) fail(`${ra}.record`, record, "a series the generated rules do not record");
        for (const field of ["for", "keep_firing_for", "annotations"]) if (rule[field] !== undefined) fail(`${ra}.${field}`, rule[field], "absent in a recording rule");
      }
      if (alert !== undefined) {
        if (typeof alert !== "string" || !ALERT_NAME.test(alert)) fail(`${ra}.alert`, alert, "an alert name: letters, digits and _ (not starting with a digit)");
        else if (taken.alerts.includes(alert)) fail(`${ra}.alert`, alert, "an alert name the generated rules do not use");
      }
      const expr = typeof rule.expr === "number" ? String(rule.expr) : rule.expr;
      if (typeof expr !== "string" || expr.trim() === "") fail(`${ra}.expr`, rule.expr, "a PromQL expression");
      else {
        const problem = bracketProblem(expr);
        if (problem !== undefined) fail(`${ra}.expr`, expr, `a PromQL expression (${problem})`);
      }
      duration(`${ra}.for`, rule.for);
      duration(`${ra}.keep_firing_for`, rule.keep_firing_for);
      labels(`${ra}.labels`, rule.labels);
      labels(`${ra}.annotations`, rule.annotations);
    });
  });
  return clean() ? { path, text, groups: [...seenGroups] } : undefined;
}
