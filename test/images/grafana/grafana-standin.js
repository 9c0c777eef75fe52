#!/usr/bin/env node
/*
 * TEST-ONLY STAND-IN for grafana/grafana:13.2.2 (statsd-stack test/images). This is NOT Grafana: Grafana cannot be
 * built or installed on the test machines, so this small server does, with what the Pulumi program gives Grafana,
 * what Grafana does with it, and fails loudly (a FATAL line, exit code 1) where Grafana would not work as intended.
 *
 * At start it checks, in this order:
 *   - the data directory (paths.data, /var/lib/grafana) exists or can be created, and is writable;
 *   - the "database" /var/lib/grafana/grafana.db (a JSON file here): when missing it is created with the admin user
 *     from security.admin_user / security.admin_password (GF_SECURITY_ADMIN_USER, GF_SECURITY_ADMIN_PASSWORD or its
 *     __FILE variant); when present its stored users win and those settings are NOT applied, as in Grafana;
 *   - every provisioning/datasources/*.y(a)ml and provisioning/dashboards/*.y(a)ml file is readable by this user,
 *     parses as YAML and has `apiVersion: 1`; datasources have a name, a type and unique names and uids, at most
 *     one is the default; dashboard providers are of type file with an options.path folder;
 *   - every *.json under each provider's options.path (recursively) is readable, parses, and has a uid and a title;
 *     uids are unique;
 *   - dashboards.default_home_dashboard_path (GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH), when set, is one of the
 *     dashboard files loaded;
 *   - every file in provisioning/alerting (alert rules, contact points, notification policies; Grafana's file
 *     provisioning, apiVersion 1) against Grafana's documented schema, read as Grafana reads it: environment references
 *     ($NAME, ${NAME}, $__env{NAME}, $__file{path}; $$ a literal $) expanded in the fields Grafana expands (not in rule
 *     annotations or query models), and a reference to an unset variable is an error (Grafana would read ""). Rules:
 *     group name, folder and interval (a duration, a multiple of 10s); each rule's uid (unique, at most 40 characters
 *     of [A-Za-z0-9_-]), title (unique in its folder), `for`, noDataState, execErrState, string labels and
 *     annotations; its data: unique refIds, a condition naming one, every datasource query on a provisioned
 *     datasource's uid with a relativeTimeRange (from > to >= 0) and a target (Graphite) or expr (Prometheus), every
 *     server-side expression (__expr__) of a known type whose inputs exist (no cycle). Contact points: name, unique
 *     receiver uids, a known type with settings (webhook: an http(s) url after expansion, method POST or PUT).
 *     Policies: one tree per organisation, receivers that exist (provisioned, or Grafana's grafana-default-email),
 *     group_by a list of label names, durations valid.
 * Settings come from defaults < GF_PATHS_CONFIG (grafana.ini) < GF_<SECTION>_<KEY> (or <...>__FILE) < cfg: args.
 *
 * HTTP API (same paths and JSON shapes as Grafana's, a subset): GET /api/health (adds "standin"), GET /api/user,
 * PUT /api/user/password, GET /api/datasources, /api/datasources/uid/:uid, /api/datasources/name/:name,
 * GET/POST /api/datasources/proxy/uid/:uid/<path> (and /proxy/:id/<path>) forwarded to the datasource's URL,
 * GET /api/dashboards/uid/:uid, GET /api/dashboards/home, GET /api/search, GET /api/v1/provisioning/alert-rules,
 * GET /api/v1/provisioning/alert-rules/:uid, GET /api/v1/provisioning/policies. Auth: HTTP basic auth against the stored
 * users (wrong credentials: 401), else anonymous access with auth.anonymous.org_role when auth.anonymous.enabled.
 * Admins may list datasources and read the alerting provisioning; viewers may read dashboards, search and query
 * through the proxy. Alert rules are not evaluated and no notification is sent.
 *
 * The checks are also a module: require() it for checkAlertingProvisioning and loadDatasources (the unit tests run
 * them on the files the program generates); run as a program, it starts the server.
 */
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const YAML = require("yaml");

const VERSION = "13.2.2";
const STANDIN = "statsd-stack test stand-in for grafana/grafana:13.2.2, not Grafana";
const ROLES = ["Viewer", "Editor", "Admin"];

// ---- logging (Grafana's logfmt console format) ----------------------------------------------------------------
/** The log file, when log.mode includes "file" (Grafana's default is "console file") and it could be opened. */
let logFile = null;

function log(level, logger, msg, fields = {}) {
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${/[\s"=]/.test(String(v)) ? JSON.stringify(String(v)) : v}`)
    .join(" ");
  const line = `logger=${logger} t=${new Date().toISOString()} level=${level} msg=${JSON.stringify(msg)}${extra ? " " + extra : ""}\n`;
  process.stdout.write(line);
  if (logFile !== null) fs.writeSync(logFile, line);
}

/**
 * Like Grafana: with "file" in log.mode, it writes grafana.log under paths.logs (the image sets /var/log/grafana),
 * and a log folder it cannot write is an error on stderr that Grafana does not stop for.
 */
function openLogFile(setting) {
  const modes = String(setting("log", "mode", "console file")).split(/[\s,]+/).filter(Boolean);
  if (!modes.includes("file")) return;
  const dir = setting("paths", "logs", process.env.GF_PATHS_LOGS || "/var/lib/grafana/log");
  try {
    fs.mkdirSync(dir, { recursive: true });
    logFile = fs.openSync(path.join(dir, "grafana.log"), "a", 0o640);
  } catch (err) {
    process.stderr.write(`Failed to initialize file log writer: ${err.message}\n`);
  }
}

class StartupError extends Error {}
const fail = (msg) => {
  throw new StartupError(msg);
};

// ---- settings ---------------------------------------------------------------------------------------------------
/** cfg:section.key=value arguments (run.sh passes cfg:default.paths.data=... and the like). */
function parseArgs(argv) {
  const cfg = {};
  for (const arg of argv) {
    const m = /^cfg:(?:default\.)?([^.=]+)\.([^=]+)=(.*)$/s.exec(arg);
    if (m) cfg[`${m[1]}.${m[2]}`] = m[3];
    else if (arg.startsWith("--config=")) cfg.__config = arg.slice("--config=".length);
  }
  return cfg;
}

function readIni(file) {
  const out = {};
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (err.code === "ENOENT") return out;
    fail(`cannot read the config file ${file}: ${err.code}`);
  }
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv) out[`${section}.${kv[1]}`] = kv[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

function makeSettings(argv) {
  const args = parseArgs(argv);
  const ini = readIni(args.__config || process.env.GF_PATHS_CONFIG || "/etc/grafana/grafana.ini");
  return (section, key, def) => {
    const env = `GF_${section.toUpperCase().replace(/[.-]/g, "_")}_${key.toUpperCase()}`;
    if (args[`${section}.${key}`] !== undefined) return args[`${section}.${key}`];
    if (process.env[env] !== undefined) return process.env[env];
    if (process.env[`${env}__FILE`]) {
      try {
        return fs.readFileSync(process.env[`${env}__FILE`], "utf8").replace(/\n+$/, "");
      } catch (err) {
        fail(`cannot read ${env}__FILE=${process.env[`${env}__FILE`]}: ${err.code}`);
      }
    }
    return ini[`${section}.${key}`] !== undefined ? ini[`${section}.${key}`] : def;
  };
}

// ---- files ------------------------------------------------------------------------------------------------------
const uid = () => (process.getuid ? process.getuid() : "?");

function readText(file, what) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    fail(`cannot read ${what} ${file} as uid ${uid()}: ${err.code}`);
  }
}

function yamlFiles(dir) {
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (err.code === "ENOENT") return [];
    fail(`cannot list ${dir} as uid ${uid()}: ${err.code}`);
  }
  return names.filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => path.join(dir, n));
}

/** Grafana expands $VAR and ${VAR} in provisioning values ($$ is a literal $). */
function expandEnv(value) {
  if (typeof value === "string") {
    return value.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => (m === "$$" ? "$" : process.env[a || b] ?? ""));
  }
  if (Array.isArray(value)) return value.map(expandEnv);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v)]));
  return value;
}

function readProvisioningFile(file) {
  const doc = YAML.parseDocument(readText(file, "provisioning file"));
  if (doc.errors.length > 0) fail(`${file} is not valid YAML: ${doc.errors[0].message}`);
  const body = doc.toJS();
  if (!body || typeof body !== "object" || Array.isArray(body)) fail(`${file} must hold a YAML mapping`);
  if (body.apiVersion !== 1) fail(`${file}: apiVersion must be 1, got ${JSON.stringify(body.apiVersion)}`);
  return expandEnv(body);
}

// ---- the "database" ---------------------------------------------------------------------------------------------
function hashPassword(password, salt) {
  // Grafana's own scheme: PBKDF2-SHA256, 10000 rounds, 50 bytes, hex.
  return crypto.pbkdf2Sync(password, salt, 10000, 50, "sha256").toString("hex");
}

function openDatabase(dataDir, setting) {
  const file = path.join(dataDir, "grafana.db");
  const save = (db) => {
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(db, null, 2)}\n`, { mode: 0o640 });
    fs.renameSync(`${file}.tmp`, file);
  };
  if (fs.existsSync(file)) {
    let db;
    try {
      db = JSON.parse(readText(file, "database"));
    } catch (err) {
      if (err instanceof StartupError) throw err;
      fail(`database ${file} is corrupt: ${err.message}`);
    }
    if (!Array.isArray(db.users) || db.users.length === 0) fail(`database ${file} has no users`);
    log("info", "sqlstore", "Database exists: admin settings (security.admin_user, security.admin_password) are not applied", {
      path: file,
    });
    return { db, save: () => save(db) };
  }
  const login = setting("security", "admin_user", "admin");
  const password = setting("security", "admin_password", "admin");
  if (!login) fail("security.admin_user (GF_SECURITY_ADMIN_USER) is empty");
  if (!password) fail("security.admin_password (GF_SECURITY_ADMIN_PASSWORD) is empty");
  const now = new Date().toISOString();
  const salt = crypto.randomBytes(5).toString("hex");
  const db = {
    about: `${STANDIN}: its whole "database" is this file`,
    version: VERSION,
    users: [
      {
        id: 1,
        uid: crypto.randomBytes(7).toString("hex"),
        login,
        email: setting("security", "admin_email", "admin@localhost"),
        name: "",
        salt,
        password: hashPassword(password, salt),
        isGrafanaAdmin: true,
        orgRole: "Admin",
        createdAt: now,
        updatedAt: now,
      },
    ],
  };
  try {
    save(db);
  } catch (err) {
    fail(`cannot create the database ${file} as uid ${uid()}: ${err.code || err.message}`);
  }
  log("info", "sqlstore", "Created default admin", { user: login });
  return { db, save: () => save(db) };
}

// ---- provisioning -----------------------------------------------------------------------------------------------
function loadDatasources(dir) {
  const list = [];
  for (const file of yamlFiles(dir)) {
    const body = readProvisioningFile(file);
    if (body.datasources === undefined || body.datasources === null) continue;
    if (!Array.isArray(body.datasources)) fail(`${file}: datasources must be a list`);
    for (const [i, ds] of body.datasources.entries()) {
      const where = `${file}: datasources[${i}]`;
      if (!ds || typeof ds !== "object") fail(`${where} must be a mapping`);
      if (!ds.name || typeof ds.name !== "string") fail(`${where} has no name`);
      if (!ds.type || typeof ds.type !== "string") fail(`${where} (${ds.name}) has no type`);
      if (ds.isDefault !== undefined && typeof ds.isDefault !== "boolean") fail(`${where}: isDefault must be true or false`);
      if ((ds.orgId ?? 1) !== 1) fail(`${where}: only orgId 1 is supported by the stand-in`);
      list.push({ ...ds, file });
    }
  }
  const byName = new Map();
  const byUid = new Map();
  list.forEach((ds, i) => {
    ds.id = i + 1;
    ds.uid = ds.uid || crypto.createHash("sha1").update(ds.name).digest("hex").slice(0, 14);
    if (byName.has(ds.name)) fail(`datasource name "${ds.name}" is provisioned twice (${byName.get(ds.name).file}, ${ds.file})`);
    if (byUid.has(ds.uid)) fail(`datasource uid "${ds.uid}" is provisioned twice (${byUid.get(ds.uid).file}, ${ds.file})`);
    byName.set(ds.name, ds);
    byUid.set(ds.uid, ds);
  });
  const defaults = list.filter((ds) => ds.isDefault);
  if (defaults.length > 1) {
    fail(`datasource provisioning is invalid: only one datasource per organization can be marked as default (${defaults.map((d) => d.name).join(", ")})`);
  }
  return list;
}

function walkJson(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    fail(`cannot list the dashboards folder ${dir} as uid ${uid()}: ${err.code}`);
  }
  const files = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && fs.statSync(full).isDirectory());
    if (isDir) files.push(...walkJson(full));
    else if (e.name.endsWith(".json")) files.push(full);
  }
  return files;
}

const slugify = (title) =>
  title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
const folderUidOf = (title) => crypto.createHash("sha1").update(`folder:${title}`).digest("hex").slice(0, 14);

function loadDashboards(dir) {
  const dashboards = [];
  const folders = new Map();
  for (const file of yamlFiles(dir)) {
    const body = readProvisioningFile(file);
    if (body.providers === undefined || body.providers === null) continue;
    if (!Array.isArray(body.providers)) fail(`${file}: providers must be a list`);
    for (const [i, p] of body.providers.entries()) {
      const where = `${file}: providers[${i}]`;
      if (!p || typeof p !== "object") fail(`${where} must be a mapping`);
      if (!p.name) fail(`${where} has no name`);
      if ((p.type ?? "file") !== "file") fail(`${where} (${p.name}): type ${p.type} is not supported (file only)`);
      const root = p.options && p.options.path;
      if (!root || typeof root !== "string") fail(`${where} (${p.name}) has no options.path`);
      if (!fs.existsSync(root)) fail(`${where} (${p.name}): options.path ${root} does not exist`);
      const fromFiles = p.options.foldersFromFilesStructure === true;
      if (fromFiles && (p.folder || p.folderUid)) {
        fail(`${where} (${p.name}): folder and folderUid cannot be set when foldersFromFilesStructure is true`);
      }
      for (const jsonFile of walkJson(root)) {
        let dash;
        try {
          dash = JSON.parse(readText(jsonFile, "dashboard file"));
        } catch (err) {
          if (err instanceof StartupError) throw err;
          fail(`dashboard file ${jsonFile} is not valid JSON: ${err.message}`);
        }
        if (!dash || typeof dash !== "object" || Array.isArray(dash)) fail(`dashboard file ${jsonFile} must hold a JSON object`);
        if (!dash.uid || typeof dash.uid !== "string") fail(`dashboard file ${jsonFile} has no uid`);
        if (!dash.title || typeof dash.title !== "string") fail(`dashboard file ${jsonFile} has no title`);
        const other = dashboards.find((d) => d.uid === dash.uid);
        if (other) fail(`dashboard uid "${dash.uid}" is in two files: ${other.file} and ${jsonFile}`);
        const sub = path.relative(root, path.dirname(jsonFile));
        const folderTitle = fromFiles ? (sub ? sub.split(path.sep)[0] : "") : p.folder || "";
        let folder = null;
        if (folderTitle) {
          folder = folders.get(folderTitle) || { id: folders.size + 1, uid: p.folderUid || folderUidOf(folderTitle), title: folderTitle };
          folders.set(folderTitle, folder);
        }
        dashboards.push({
          id: 0,
          uid: dash.uid,
          title: dash.title,
          tags: Array.isArray(dash.tags) ? dash.tags : [],
          json: dash,
          file: jsonFile,
          realFile: fs.realpathSync(jsonFile),
          provider: p.name,
          externalId: path.relative(root, jsonFile),
          allowUiUpdates: p.allowUiUpdates === true,
          folder,
        });
      }
    }
  }
  dashboards.forEach((d, i) => (d.id = i + 1));
  return { dashboards, folders: [...folders.values()] };
}

// ---- alerting provisioning --------------------------------------------------------------------------------------
/** Grafana's base evaluation interval: rule group intervals are multiples of it. */
const BASE_INTERVAL_MS = 10_000;
const NO_DATA_STATES = ["NoData", "Alerting", "OK", "KeepLast"];
const EXEC_ERR_STATES = ["Error", "Alerting", "OK", "KeepLast"];
const EXPRESSION_UID = "__expr__";
const EXPRESSION_TYPES = ["math", "reduce", "resample", "classic_conditions", "threshold", "sql"];
const REDUCERS = ["sum", "mean", "min", "max", "count", "last"];
const THRESHOLD_TYPES = ["gt", "lt", "eq", "ne", "gte", "lte", "within_range", "outside_range", "within_range_included", "outside_range_included"];
/** The integrations Grafana's contact points offer. */
const CONTACT_POINT_TYPES = [
  "alertmanager", "prometheus-alertmanager", "dingding", "discord", "email", "googlechat", "jira", "kafka", "line", "mqtt",
  "oncall", "opsgenie", "pagerduty", "pushover", "sensugo", "slack", "sns", "teams", "telegram", "threema", "victorops",
  "webex", "webhook", "wecom",
];
/** The contact point Grafana creates itself; a policy may route to it without provisioning it. */
const BUILT_IN_CONTACT_POINT = "grafana-default-email";
/** Grafana's short uids: what rule and receiver uids may be. */
const SHORT_UID = /^[a-zA-Z0-9\-_]{1,40}$/;
/** Prometheus's duration syntax, which Grafana parses `for`, intervals and policy timers with. */
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A Prometheus duration in milliseconds; undefined when Grafana would refuse it. */
function durationMs(text) {
  if (text === "0") return 0;
  const m = typeof text === "string" && text !== "" ? DURATION.exec(text) : null;
  if (!m) return undefined;
  const units = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
  return m.slice(1).reduce((total, n, i) => total + (n === undefined ? 0 : Number(n) * units[i]), 0);
}

/**
 * A string as Grafana's provisioning reads it (pkg/services/provisioning/values): split at `$$` (a literal `$`),
 * then `$__env{NAME}`, `$__file{path}` and `$NAME`/`${NAME}` expanded in each part. A reference to an unset variable,
 * an unreadable file or an unknown expander fails: Grafana would silently use an empty string.
 */
function interpolate(value, where) {
  if (typeof value !== "string") return value;
  const env = (name) => {
    if (process.env[name] === undefined) fail(`${where}: ${JSON.stringify(value)} refers to the environment variable ${name}, which is not set (Grafana would read an empty string)`);
    return process.env[name];
  };
  return value
    .split("$$")
    .map((part) =>
      part
        .replace(/\$__(\w+)\{(.*?)\}/g, (m, kind, arg) => {
          if (kind === "env") return env(arg);
          if (kind === "file") {
            try {
              return fs.readFileSync(arg, "utf8").trim();
            } catch (err) {
              fail(`${where}: $__file{${arg}} cannot be read as uid ${uid()}: ${err.code}`);
            }
          }
          fail(`${where}: ${m} uses the expander ${kind}, which the stand-in does not have (env and file only)`);
        })
        .replace(/\$(?:\{([^}]*)\}|([*#@!?\-0-9])|([A-Za-z0-9_]+))/g, (m, braced, special, name) => env(braced ?? special ?? name)),
    )
    .join("$");
}

/** Every string leaf of a value interpolated (Grafana's JSONValue and StringMapValue). */
function interpolateAll(value, where) {
  if (typeof value === "string") return interpolate(value, where);
  if (Array.isArray(value)) return value.map((v, i) => interpolateAll(v, `${where}[${i}]`));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, `${where}.${k}`)]));
  return value;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function requireString(value, where, what) {
  if (typeof value !== "string" || value.trim() === "") fail(`${where} has no ${what}`);
  return value;
}

function requireDuration(value, where, what) {
  const ms = durationMs(value);
  if (ms === undefined) fail(`${where}: ${what} ${JSON.stringify(value)} is not a duration such as 30s, 5m or 1h30m`);
  return ms;
}

/** A map of strings (labels, annotations); label names must be Prometheus label names. */
function checkStringMap(value, where, labelNames) {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(`${where} must be a mapping of strings`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(`${where}.${k} must be a string, got ${JSON.stringify(v)}`);
    if (labelNames && !LABEL_NAME.test(k)) fail(`${where}: ${JSON.stringify(k)} is not a label name`);
  }
  return value;
}

/** The refIds an expression reads. */
function expressionInputs(model, where) {
  const ref = (v) => requireString(v, where, "expression (the refId it reads)").replace(/^\$/, "");
  switch (model.type) {
    case "math":
      return [...requireString(model.expression, where, "expression").matchAll(/\$\{?([A-Za-z0-9_]+)\}?/g)].map((m) => m[1]);
    case "reduce": {
      if (!REDUCERS.includes(String(model.reducer).toLowerCase())) fail(`${where}: reducer ${JSON.stringify(model.reducer)} is not one of ${REDUCERS.join(", ")}`);
      const settings = model.settings ?? {};
      if (!isObject(settings)) fail(`${where}: settings must be a mapping`);
      if (![undefined, "", "dropNN", "replaceNN"].includes(settings.mode)) fail(`${where}: settings.mode ${JSON.stringify(settings.mode)} is not dropNN or replaceNN`);
      if (settings.mode === "replaceNN" && typeof settings.replaceWithValue !== "number") fail(`${where}: settings.replaceWithValue must be a number with mode replaceNN`);
      return [ref(model.expression)];
    }
    case "resample":
      requireDuration(model.window, where, "window");
      requireString(model.downsampler, where, "downsampler");
      requireString(model.upsampler, where, "upsampler");
      return [ref(model.expression)];
    case "threshold": {
      if (!Array.isArray(model.conditions) || model.conditions.length !== 1) fail(`${where}: a threshold expression has exactly one condition`);
      const evaluator = model.conditions[0] && model.conditions[0].evaluator;
      if (!isObject(evaluator) || !THRESHOLD_TYPES.includes(evaluator.type)) fail(`${where}: conditions[0].evaluator.type must be one of ${THRESHOLD_TYPES.join(", ")}`);
      const needed = evaluator.type.includes("range") ? 2 : 1;
      if (!Array.isArray(evaluator.params) || evaluator.params.length < needed || !evaluator.params.slice(0, needed).every((p) => typeof p === "number" && Number.isFinite(p))) {
        fail(`${where}: conditions[0].evaluator.params must hold ${needed} number${needed === 1 ? "" : "s"}, got ${JSON.stringify(evaluator.params)}`);
      }
      return [ref(model.expression)];
    }
    case "classic_conditions":
      if (!Array.isArray(model.conditions) || model.conditions.length === 0) fail(`${where}: classic_conditions needs conditions`);
      return model.conditions.map((c, i) => requireString(c && c.query && c.query.params && c.query.params[0], `${where}.conditions[${i}]`, "query.params[0]"));
    default:
      return [];
  }
}

/** One rule of a group: fields as Grafana reads them, data as a graph of queries and expressions. */
function checkRule(rule, where, datasources) {
  if (!isObject(rule)) fail(`${where} must be a mapping`);
  const uidValue = interpolate(rule.uid, `${where}.uid`);
  if (typeof uidValue !== "string" || !SHORT_UID.test(uidValue)) fail(`${where}: uid ${JSON.stringify(uidValue)} must be 1 to 40 characters of A-Z, a-z, 0-9, - and _`);
  const title = requireString(interpolate(rule.title, `${where}.title`), `${where} (${uidValue})`, "title");
  const at = `${where} (${title})`;
  if (title.length > 190) fail(`${at}: the title is longer than 190 characters`);
  if (rule.record !== undefined) fail(`${at}: recording rules are not supported by the stand-in`);
  const condition = requireString(interpolate(rule.condition, `${at}.condition`), at, "condition");
  if (!Array.isArray(rule.data) || rule.data.length === 0) fail(`${at} has no data`);
  const nodes = new Map();
  for (const [i, q] of rule.data.entries()) {
    const qAt = `${at}: data[${i}]`;
    if (!isObject(q)) fail(`${qAt} must be a mapping`);
    const refId = requireString(interpolate(q.refId, `${qAt}.refId`), qAt, "refId");
    if (nodes.has(refId)) fail(`${at}: refId ${refId} is used twice`);
    const dsUid = requireString(interpolate(q.datasourceUid, `${qAt}.datasourceUid`), qAt, "datasourceUid");
    // The model is read raw: Grafana does not expand variables in it (queries may hold $ macros).
    if (!isObject(q.model)) fail(`${qAt} (${refId}) has no model`);
    if (q.model.refId !== undefined && q.model.refId !== refId) fail(`${qAt}: model.refId ${JSON.stringify(q.model.refId)} differs from refId ${refId}`);
    let inputs = [];
    if (dsUid === EXPRESSION_UID) {
      if (!EXPRESSION_TYPES.includes(q.model.type)) fail(`${qAt} (${refId}): expression type ${JSON.stringify(q.model.type)} is not one of ${EXPRESSION_TYPES.join(", ")}`);
      inputs = expressionInputs(q.model, `${qAt} (${refId}, ${q.model.type})`);
    } else {
      const ds = datasources.find((d) => d.uid === dsUid);
      if (!ds) fail(`${qAt} (${refId}): datasourceUid ${dsUid} is not a provisioned datasource (${datasources.map((d) => d.uid).join(", ") || "none"})`);
      const range = q.relativeTimeRange;
      if (!isObject(range) || !Number.isInteger(range.from) || !Number.isInteger(range.to) || range.to < 0 || range.from <= range.to) {
        fail(`${qAt} (${refId}): relativeTimeRange must have whole seconds from > to >= 0, got ${JSON.stringify(range)}`);
      }
      if (ds.type === "graphite") requireString(q.model.target, `${qAt} (${refId}, Graphite)`, "model.target");
      if (ds.type === "prometheus") requireString(q.model.expr, `${qAt} (${refId}, Prometheus)`, "model.expr");
    }
    nodes.set(refId, inputs);
  }
  for (const [refId, inputs] of nodes) {
    for (const input of inputs) if (!nodes.has(input)) fail(`${at}: ${refId} reads ${input}, which is not a refId of the rule's data`);
  }
  if (!nodes.has(condition)) fail(`${at}: condition ${condition} is not a refId of the rule's data (${[...nodes.keys()].join(", ")})`);
  // The expressions must form a graph Grafana can order: no refId may depend on itself.
  const visiting = new Set();
  const done = new Set();
  const visit = (refId) => {
    if (done.has(refId)) return;
    if (visiting.has(refId)) fail(`${at}: the data's expressions form a cycle through ${refId}`);
    visiting.add(refId);
    nodes.get(refId).forEach(visit);
    visiting.delete(refId);
    done.add(refId);
  };
  [...nodes.keys()].forEach(visit);

  const noDataState = interpolate(rule.noDataState ?? "NoData", `${at}.noDataState`);
  if (!NO_DATA_STATES.includes(noDataState)) fail(`${at}: noDataState ${JSON.stringify(noDataState)} is not one of ${NO_DATA_STATES.join(", ")}`);
  const execErrState = interpolate(rule.execErrState ?? "Alerting", `${at}.execErrState`);
  if (!EXEC_ERR_STATES.includes(execErrState)) fail(`${at}: execErrState ${JSON.stringify(execErrState)} is not one of ${EXEC_ERR_STATES.join(", ")}`);
  const forValue = rule.for === undefined ? "0" : interpolate(String(rule.for), `${at}.for`);
  requireDuration(forValue, at, "for");
  if (rule.keepFiringFor !== undefined) requireDuration(interpolate(String(rule.keepFiringFor), `${at}.keepFiringFor`), at, "keepFiringFor");
  if (rule.isPaused !== undefined && typeof rule.isPaused !== "boolean") fail(`${at}: isPaused must be true or false`);
  const labels = interpolateAll(checkStringMap(rule.labels, `${at}: labels`, true), `${at}.labels`);
  // Annotations are read raw: Grafana leaves them to its templates ({{ $labels.x }}, {{ $values.B.Value }}).
  const annotations = checkStringMap(rule.annotations, `${at}: annotations`, false);
  return { uid: uidValue, title, condition, data: rule.data, noDataState, execErrState, for: forValue, labels, annotations, isPaused: rule.isPaused === true };
}

/** A notification policy and its children: receivers that exist, label names to group by, valid timers. */
function checkRoute(route, where, receivers) {
  if (!isObject(route)) fail(`${where} must be a mapping`);
  if (route.receiver !== undefined && !receivers.has(route.receiver)) {
    fail(`${where}: receiver ${JSON.stringify(route.receiver)} is not a contact point (${[...receivers].join(", ")})`);
  }
  if (route.group_by !== undefined) {
    if (!Array.isArray(route.group_by)) fail(`${where}: group_by must be a list`);
    for (const label of route.group_by) {
      if (label !== "..." && !(typeof label === "string" && LABEL_NAME.test(label))) fail(`${where}: group_by ${JSON.stringify(label)} is not a label name`);
    }
  }
  for (const key of ["group_wait", "group_interval", "repeat_interval"]) {
    if (route[key] === undefined) continue;
    const ms = requireDuration(route[key], where, key);
    if (key !== "group_wait" && ms === 0) fail(`${where}: ${key} must be more than 0`);
  }
  for (const key of ["matchers", "mute_time_intervals", "active_time_intervals"]) {
    if (route[key] !== undefined && !(Array.isArray(route[key]) && route[key].every((m) => typeof m === "string"))) fail(`${where}: ${key} must be a list of strings`);
  }
  if (route.object_matchers !== undefined && !(Array.isArray(route.object_matchers) && route.object_matchers.every((m) => Array.isArray(m) && m.length === 3))) {
    fail(`${where}: object_matchers must be a list of [label, operator, value]`);
  }
  (route.routes ?? []).forEach((child, i) => checkRoute(child, `${where}.routes[${i}]`, receivers));
}

/**
 * Reads every file of provisioning/alerting as Grafana 13's file provisioning does (YAML or JSON, apiVersion 1) and
 * checks it; `datasources` are the provisioned ones (loadDatasources). Returns the rules, contact points and policy
 * trees it found.
 */
function checkAlertingProvisioning(dir, datasources) {
  let names;
  try {
    names = fs.readdirSync(dir).sort();
  } catch (err) {
    if (err.code === "ENOENT") return { groups: [], contactPoints: [], policies: [] };
    fail(`cannot list ${dir} as uid ${uid()}: ${err.code}`);
  }
  const groups = [];
  const contactPoints = [];
  const policies = [];
  for (const name of names) {
    const file = path.join(dir, name);
    // Grafana stops at a file it cannot read as YAML or JSON, where the other provisioners skip it.
    if (!/\.(ya?ml|json)$/.test(name)) fail(`${file}: an alerting provisioning file must end in .yaml, .yml or .json`);
    const doc = YAML.parseDocument(readText(file, "alerting provisioning file"));
    if (doc.errors.length > 0) fail(`${file} is not valid YAML: ${doc.errors[0].message}`);
    const body = doc.toJS();
    if (!isObject(body)) fail(`${file} must hold a YAML mapping`);
    if (body.apiVersion !== 1) fail(`${file}: apiVersion must be 1, got ${JSON.stringify(body.apiVersion)}`);
    const list = (key) => {
      if (body[key] === undefined || body[key] === null) return [];
      if (!Array.isArray(body[key])) fail(`${file}: ${key} must be a list`);
      return body[key];
    };
    const orgOf = (v, where) => {
      if ((interpolate(v ?? 1, where) ?? 1) != 1) fail(`${where}: only orgId 1 is supported by the stand-in`);
    };
    for (const [i, g] of list("groups").entries()) {
      const where = `${file}: groups[${i}]`;
      if (!isObject(g)) fail(`${where} must be a mapping`);
      orgOf(g.orgId, `${where}.orgId`);
      const groupName = requireString(interpolate(g.name, `${where}.name`), where, "name");
      const folder = requireString(interpolate(g.folder, `${where}.folder`), `${where} (${groupName})`, "folder");
      const interval = requireDuration(interpolate(g.interval, `${where}.interval`), `${where} (${groupName})`, "interval");
      if (interval === 0 || interval % BASE_INTERVAL_MS !== 0) fail(`${where} (${groupName}): interval ${g.interval} must be a positive multiple of 10s`);
      if (!Array.isArray(g.rules)) fail(`${where} (${groupName}): rules must be a list`);
      const rules = g.rules.map((r, j) => checkRule(r, `${where} (${groupName}): rules[${j}]`, datasources));
      groups.push({ name: groupName, folder, interval: g.interval, rules, file });
    }
    for (const [i, cp] of list("contactPoints").entries()) {
      const where = `${file}: contactPoints[${i}]`;
      if (!isObject(cp)) fail(`${where} must be a mapping`);
      orgOf(cp.orgId, `${where}.orgId`);
      const cpName = requireString(interpolate(cp.name, `${where}.name`), where, "name");
      if (!Array.isArray(cp.receivers) || cp.receivers.length === 0) fail(`${where} (${cpName}) has no receivers`);
      const receivers = cp.receivers.map((r, j) => {
        const rAt = `${where} (${cpName}): receivers[${j}]`;
        if (!isObject(r)) fail(`${rAt} must be a mapping`);
        const rUid = interpolate(r.uid, `${rAt}.uid`);
        if (typeof rUid !== "string" || !SHORT_UID.test(rUid)) fail(`${rAt}: uid ${JSON.stringify(rUid)} must be 1 to 40 characters of A-Z, a-z, 0-9, - and _`);
        const type = interpolate(r.type, `${rAt}.type`);
        if (!CONTACT_POINT_TYPES.includes(type)) fail(`${rAt}: type ${JSON.stringify(type)} is not one of Grafana's integrations`);
        if (!isObject(r.settings) || Object.keys(r.settings).length === 0) fail(`${rAt} (${type}) has no settings`);
        const settings = interpolateAll(r.settings, `${rAt}.settings`);
        if (type === "webhook") {
          let url;
          try {
            url = new URL(settings.url);
          } catch {
            url = undefined;
          }
          // The URL is not shown: it may carry a token.
          if (!url || !["http:", "https:"].includes(url.protocol)) fail(`${rAt} (webhook): settings.url is not an absolute http(s) URL once expanded`);
          if (settings.httpMethod !== undefined && !["POST", "PUT"].includes(settings.httpMethod)) fail(`${rAt} (webhook): httpMethod must be POST or PUT`);
        }
        if (r.disableResolveMessage !== undefined && typeof r.disableResolveMessage !== "boolean") fail(`${rAt}: disableResolveMessage must be true or false`);
        return { uid: rUid, type, settings };
      });
      contactPoints.push({ name: cpName, receivers, file });
    }
    for (const [i, p] of list("policies").entries()) {
      const where = `${file}: policies[${i}]`;
      if (!isObject(p)) fail(`${where} must be a mapping`);
      orgOf(p.orgId, `${where}.orgId`);
      const { orgId: _org, ...route } = interpolateAll(p, where);
      policies.push({ route, where });
    }
  }
  const seenUids = new Map();
  for (const g of groups) {
    for (const r of g.rules) {
      if (seenUids.has(r.uid)) fail(`alert rule uid ${r.uid} is provisioned twice (${seenUids.get(r.uid)}, ${g.file})`);
      seenUids.set(r.uid, g.file);
      const sameTitle = groups.filter((o) => o.folder === g.folder).flatMap((o) => o.rules).filter((o) => o.title === r.title);
      if (sameTitle.length > 1) fail(`alert rule title ${JSON.stringify(r.title)} is used twice in folder ${g.folder}`);
    }
  }
  const receiverUids = contactPoints.flatMap((cp) => cp.receivers.map((r) => r.uid));
  const dupReceiver = receiverUids.find((u, i) => receiverUids.indexOf(u) !== i);
  if (dupReceiver) fail(`contact point receiver uid ${dupReceiver} is provisioned twice`);
  if (policies.length > 1) fail(`${policies[1].where}: a second notification policy tree for organisation 1 (${policies[0].where} is the first; each replaces the whole tree)`);
  const receivers = new Set([BUILT_IN_CONTACT_POINT, ...contactPoints.map((cp) => cp.name)]);
  for (const p of policies) {
    if (p.route.receiver === undefined) fail(`${p.where}: the root policy has no receiver`);
    checkRoute(p.route, p.where, receivers);
  }
  return { groups, contactPoints, policies: policies.map((p) => p.route) };
}

// ---- HTTP -------------------------------------------------------------------------------------------------------
function send(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": typeof body === "string" ? "text/html; charset=utf-8" : "application/json",
    "Cache-Control": "no-store",
    "X-Grafana-Standin": "true",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function main() {
  const setting = makeSettings(process.argv.slice(2));
  const dataDir = setting("paths", "data", process.env.GF_PATHS_DATA || "/var/lib/grafana");
  const provisioning = setting("paths", "provisioning", process.env.GF_PATHS_PROVISIONING || "/etc/grafana/provisioning");
  const port = Number(setting("server", "http_port", "3000"));
  const addr = setting("server", "http_addr", "");
  const anonymous = String(setting("auth.anonymous", "enabled", "false")).toLowerCase() === "true";
  const anonymousRole = setting("auth.anonymous", "org_role", "Viewer");
  const basicAuth = String(setting("auth.basic", "enabled", "true")).toLowerCase() !== "false";
  const homePath = setting("dashboards", "default_home_dashboard_path", "");

  openLogFile(setting);
  log("info", "settings", "Starting Grafana stand-in", { version: VERSION, note: STANDIN });
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`server.http_port is not a port: ${port}`);
  if (!ROLES.includes(anonymousRole)) fail(`auth.anonymous.org_role must be one of ${ROLES.join(", ")}, got ${anonymousRole}`);

  // Data directory: Grafana keeps its database and plugins there.
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    const probe = path.join(dataDir, `.standin-write-test-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.unlinkSync(probe);
  } catch (err) {
    fail(`data directory ${dataDir} is not writable by uid ${uid()}: ${err.code || err.message}`);
  }
  const { db, save } = openDatabase(dataDir, setting);

  const datasources = loadDatasources(path.join(provisioning, "datasources"));
  log("info", "provisioning.datasources", "inserting datasources from configuration", { count: datasources.length });
  const { dashboards, folders } = loadDashboards(path.join(provisioning, "dashboards"));
  log("info", "provisioning.dashboard", "finished to provision dashboards", { count: dashboards.length, folders: folders.length });
  let home = null;
  if (homePath) {
    let real;
    try {
      real = fs.realpathSync(homePath);
    } catch (err) {
      fail(`dashboards.default_home_dashboard_path ${homePath} cannot be read: ${err.code}`);
    }
    home = dashboards.find((d) => d.realFile === real);
    if (!home) fail(`dashboards.default_home_dashboard_path ${homePath} is not one of the provisioned dashboard files`);
  }
  const alerting = checkAlertingProvisioning(path.join(provisioning, "alerting"), datasources);
  log("info", "provisioning.alerting", "finished to provision alerting", {
    groups: alerting.groups.length,
    rules: alerting.groups.reduce((n, g) => n + g.rules.length, 0),
    contactPoints: alerting.contactPoints.length,
    policies: alerting.policies.length,
  });
  for (const other of ["notifiers", "plugins", "access-control"]) {
    if (yamlFiles(path.join(provisioning, other)).length > 0) {
      log("warn", "provisioning", "files here are not checked by the stand-in", { path: path.join(provisioning, other) });
    }
  }

  const startedAt = new Date().toISOString();
  const userJson = (u) => ({
    id: u.id,
    uid: u.uid,
    email: u.email,
    name: u.name,
    login: u.login,
    theme: "",
    orgId: 1,
    isGrafanaAdmin: u.isGrafanaAdmin,
    isDisabled: false,
    isExternal: false,
    isExternallySynced: false,
    isGrafanaAdminExternallySynced: false,
    authLabels: null,
    updatedAt: u.updatedAt,
    createdAt: u.createdAt,
    avatarUrl: `/avatar/${crypto.createHash("md5").update(u.email).digest("hex")}`,
    isProvisioned: false,
  });
  const dsJson = (ds) => ({
    id: ds.id,
    uid: ds.uid,
    orgId: 1,
    name: ds.name,
    type: ds.type,
    typeName: ds.type.charAt(0).toUpperCase() + ds.type.slice(1),
    typeLogoUrl: `public/plugins/${ds.type}/img/logo.svg`,
    access: ds.access || "proxy",
    url: ds.url || "",
    user: ds.user || "",
    database: ds.database || "",
    basicAuth: ds.basicAuth === true,
    basicAuthUser: ds.basicAuthUser || "",
    withCredentials: ds.withCredentials === true,
    isDefault: ds.isDefault === true,
    jsonData: ds.jsonData || {},
    secureJsonFields: Object.fromEntries(Object.keys(ds.secureJsonData || {}).map((k) => [k, true])),
    version: 1,
    readOnly: ds.editable !== true,
  });
  // Rules live in folders found by title: the dashboards' folder when they share it, as in Grafana.
  const folderOfTitle = (title) => folders.find((f) => f.title === title) || { uid: folderUidOf(title), title };
  const ruleJson = (g, r) => ({
    uid: r.uid,
    orgID: 1,
    folderUID: folderOfTitle(g.folder).uid,
    ruleGroup: g.name,
    title: r.title,
    condition: r.condition,
    data: r.data.map((q) => ({ refId: q.refId, queryType: q.queryType || "", relativeTimeRange: q.relativeTimeRange || { from: 0, to: 0 }, datasourceUid: q.datasourceUid, model: q.model })),
    updated: startedAt,
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    for: r.for,
    annotations: r.annotations,
    labels: r.labels,
    provenance: "file",
    isPaused: r.isPaused,
  });
  /** The policy tree: the provisioned one, else the default Grafana creates. */
  const policyTree = () =>
    alerting.policies[0]
      ? { ...alerting.policies[0], provenance: "file" }
      : { receiver: BUILT_IN_CONTACT_POINT, group_by: ["grafana_folder", "alertname"], provenance: "" };
  const dashboardUrl = (d) => `/d/${d.uid}/${slugify(d.title)}`;
  const dashboardResponse = (d, who, isHome = false) => {
    const canEdit = who.role !== "Viewer" && d.allowUiUpdates;
    return {
      dashboard: { ...d.json, id: d.id, uid: d.uid, version: d.json.version || 1 },
      meta: {
        type: "db",
        canSave: canEdit,
        canEdit,
        canAdmin: who.role === "Admin",
        canStar: !who.anonymous,
        canDelete: canEdit,
        slug: slugify(d.title),
        url: dashboardUrl(d),
        expires: "0001-01-01T00:00:00Z",
        created: startedAt,
        updated: startedAt,
        updatedBy: "Anonymous",
        createdBy: "Anonymous",
        version: d.json.version || 1,
        hasAcl: false,
        isFolder: false,
        isHome,
        folderId: d.folder ? d.folder.id : 0,
        folderUid: d.folder ? d.folder.uid : "",
        folderTitle: d.folder ? d.folder.title : "Dashboards",
        folderUrl: d.folder ? `/dashboards/f/${d.folder.uid}/${slugify(d.folder.title)}` : "",
        provisioned: true,
        provisionedExternalId: d.externalId,
      },
    };
  };

  /** Who is asking: a stored user (basic auth), the anonymous viewer, or an error response. */
  function identify(req) {
    const header = req.headers.authorization || "";
    if (basicAuth && header.startsWith("Basic ")) {
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
      const sep = decoded.indexOf(":");
      const login = decoded.slice(0, sep);
      const password = decoded.slice(sep + 1);
      const user = db.users.find((u) => u.login === login || u.email === login);
      if (sep < 0 || !user || hashPassword(password, user.salt) !== user.password) {
        return { error: [401, { message: "Invalid username or password", messageId: "password-auth.failed", statusCode: 401 }] };
      }
      return { user, role: user.orgRole || "Admin" };
    }
    if (anonymous) return { anonymous: true, role: anonymousRole };
    return { error: [401, { message: "Unauthorized", messageId: "auth.unauthorized", statusCode: 401 }] };
  }

  async function proxy(req, res, ds, rest, search) {
    if (!["GET", "POST", "HEAD"].includes(req.method)) return send(res, 405, { message: "Method not allowed by the stand-in's proxy" });
    if (!ds.url) return send(res, 400, { message: "Data source has no URL" });
    const base = new URL(ds.url);
    const target = new URL(base.href);
    target.pathname = `${base.pathname.replace(/\/+$/, "")}/${rest}`;
    target.search = search;
    const headers = {};
    for (const h of ["content-type", "accept"]) if (req.headers[h]) headers[h] = req.headers[h];
    if (ds.basicAuth && ds.basicAuthUser) {
      const pw = (ds.secureJsonData && ds.secureJsonData.basicAuthPassword) || "";
      headers.authorization = `Basic ${Buffer.from(`${ds.basicAuthUser}:${pw}`).toString("base64")}`;
    }
    const body = req.method === "POST" ? await readBody(req) : undefined;
    try {
      const upstream = await fetch(target, { method: req.method, headers, body, signal: AbortSignal.timeout(30_000) });
      const buf = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, {
        "Content-Type": upstream.headers.get("content-type") || "application/octet-stream",
        "X-Grafana-Standin": "true",
      });
      res.end(req.method === "HEAD" ? undefined : buf);
    } catch (err) {
      log("error", "data-proxy-log", "Proxy request failed", { url: target.href, err: err.cause ? err.cause.code || err.cause.message : err.message });
      send(res, 502, { message: "Bad Gateway", error: String(err.cause ? err.cause.code || err.cause.message : err.message) });
    }
  }

  async function route(req, res) {
    const url = new URL(req.url, "http://localhost");
    const p = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method === "HEAD" ? "GET" : req.method;

    if (p === "/api/health" && method === "GET") {
      return send(res, 200, { database: "ok", version: VERSION, commit: "statsd-stack-standin", standin: STANDIN });
    }
    if (!p.startsWith("/api/")) {
      if (method !== "GET") return send(res, 404, "Not found\n");
      return send(res, 200, `<!doctype html><title>Grafana stand-in</title><p>${STANDIN}. Only part of Grafana's HTTP API is here.</p>\n`);
    }
    const who = identify(req);
    if (who.error) return send(res, ...who.error);
    const forbidden = (action) =>
      send(res, 403, { message: `You'll need additional permissions to perform this action. Permissions needed: ${action}`, accessErrorId: "ACE0000000000" });
    let m;

    if (p === "/api/user" && method === "GET") {
      if (!who.user) return send(res, 401, { message: "Unauthorized", messageId: "auth.unauthorized", statusCode: 401 });
      return send(res, 200, userJson(who.user));
    }
    if (p === "/api/user/password" && method === "PUT") {
      if (!who.user) return send(res, 401, { message: "Unauthorized", messageId: "auth.unauthorized", statusCode: 401 });
      let body;
      try {
        body = JSON.parse((await readBody(req)).toString("utf8"));
      } catch {
        return send(res, 400, { message: "bad request data" });
      }
      if (hashPassword(String(body.oldPassword ?? ""), who.user.salt) !== who.user.password) return send(res, 401, { message: "Invalid old password" });
      if (!body.newPassword || String(body.newPassword).length < 4) return send(res, 400, { message: "New password is too short" });
      who.user.salt = crypto.randomBytes(5).toString("hex");
      who.user.password = hashPassword(String(body.newPassword), who.user.salt);
      who.user.updatedAt = new Date().toISOString();
      save();
      return send(res, 200, { message: "User password changed" });
    }
    if ((m = /^\/api\/datasources\/proxy\/uid\/([^/]+)(?:\/(.*))?$/.exec(url.pathname)) || (m = /^\/api\/datasources\/proxy\/(\d+)(?:\/(.*))?$/.exec(url.pathname))) {
      const key = decodeURIComponent(m[1]);
      const ds = url.pathname.includes("/proxy/uid/") ? datasources.find((d) => d.uid === key) : datasources.find((d) => String(d.id) === key);
      if (!ds) return send(res, 404, { message: "Unable to find datasource" });
      return proxy(req, res, ds, m[2] || "", url.search);
    }
    if (p === "/api/datasources" && method === "GET") {
      if (who.role !== "Admin") return forbidden("datasources:read");
      // The list has fewer fields than a single datasource, as in Grafana.
      const listed = ["id", "uid", "orgId", "name", "type", "typeName", "typeLogoUrl", "access", "url", "user", "database", "basicAuth", "isDefault", "jsonData", "readOnly"];
      return send(res, 200, datasources.map((ds) => Object.fromEntries(Object.entries(dsJson(ds)).filter(([k]) => listed.includes(k)))));
    }
    if ((m = /^\/api\/datasources\/(uid|name)\/(.+)$/.exec(p)) && method === "GET") {
      if (who.role !== "Admin") return forbidden("datasources:read");
      const key = decodeURIComponent(m[2]);
      const ds = datasources.find((d) => (m[1] === "uid" ? d.uid : d.name) === key);
      return ds ? send(res, 200, dsJson(ds)) : send(res, 404, { message: "Data source not found" });
    }
    if (p === "/api/v1/provisioning/alert-rules" && method === "GET") {
      if (who.role !== "Admin") return forbidden("alert.provisioning:read");
      return send(res, 200, alerting.groups.flatMap((g) => g.rules.map((r) => ruleJson(g, r))));
    }
    if ((m = /^\/api\/v1\/provisioning\/alert-rules\/([^/]+)$/.exec(p)) && method === "GET") {
      if (who.role !== "Admin") return forbidden("alert.provisioning:read");
      const key = decodeURIComponent(m[1]);
      const g = alerting.groups.find((x) => x.rules.some((r) => r.uid === key));
      return g ? send(res, 200, ruleJson(g, g.rules.find((r) => r.uid === key))) : send(res, 404, { message: "not found" });
    }
    if (p === "/api/v1/provisioning/policies" && method === "GET") {
      if (who.role !== "Admin") return forbidden("alert.notifications.provisioning:read");
      return send(res, 200, policyTree());
    }
    if ((m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(p)) && method === "GET") {
      const d = dashboards.find((x) => x.uid === decodeURIComponent(m[1]));
      return d ? send(res, 200, dashboardResponse(d, who)) : send(res, 404, { message: "Dashboard not found" });
    }
    if (p === "/api/dashboards/home" && method === "GET") {
      if (home) return send(res, 200, dashboardResponse(home, who, true));
      return send(res, 200, { dashboard: { title: "Home", uid: "", panels: [] }, meta: { isHome: true, canSave: false, canEdit: false, slug: "" } });
    }
    if (p === "/api/search" && method === "GET") {
      const q = (url.searchParams.get("query") || "").toLowerCase();
      const type = url.searchParams.get("type") || "";
      const tags = url.searchParams.getAll("tag");
      const uids = url.searchParams.getAll("dashboardUIDs").flatMap((s) => s.split(","));
      const folderUids = url.searchParams.getAll("folderUIDs").flatMap((s) => s.split(","));
      const limit = Number(url.searchParams.get("limit") || 1000);
      const byTitle = (a, b) => a.title.localeCompare(b.title, undefined, { sensitivity: "base" });
      const hits = [];
      if (type !== "dash-db" && tags.length === 0 && uids.length === 0) {
        for (const f of [...folders].sort(byTitle)) {
          if (q && !f.title.toLowerCase().includes(q)) continue;
          hits.push({ id: f.id, uid: f.uid, orgId: 1, title: f.title, uri: `db/${slugify(f.title)}`, url: `/dashboards/f/${f.uid}/${slugify(f.title)}`, slug: "", type: "dash-folder", tags: [], isStarred: false, sortMeta: 0, isDeleted: false });
        }
      }
      if (type !== "dash-folder") {
        for (const d of [...dashboards].sort(byTitle)) {
          if (q && !d.title.toLowerCase().includes(q)) continue;
          if (tags.some((t) => !d.tags.includes(t))) continue;
          if (uids.length && !uids.includes(d.uid)) continue;
          if (folderUids.length && !folderUids.includes(d.folder ? d.folder.uid : "general")) continue;
          hits.push({
            id: d.id, uid: d.uid, orgId: 1, title: d.title, uri: `db/${slugify(d.title)}`, url: dashboardUrl(d), slug: "",
            type: "dash-db", tags: d.tags, isStarred: false, sortMeta: 0, isDeleted: false,
            ...(d.folder ? { folderId: d.folder.id, folderUid: d.folder.uid, folderTitle: d.folder.title, folderUrl: `/dashboards/f/${d.folder.uid}/${slugify(d.folder.title)}` } : {}),
          });
        }
      }
      return send(res, 200, hits.slice(0, limit));
    }
    return send(res, 404, { message: "Not found" });
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      log("error", "context", "Request error", { path: req.url, err: err.message });
      if (!res.headersSent) send(res, 500, { message: "Internal Server Error" });
      else res.destroy();
    });
  });
  server.on("error", (err) => {
    process.stderr.write(`FATAL: grafana stand-in: cannot listen on ${addr || "[::]"}:${port}: ${err.code || err.message}\n`);
    process.exit(1);
  });
  server.listen(port, addr || undefined, () => {
    log("info", "http.server", "HTTP Server Listen", { address: `${addr || "[::]"}:${port}`, protocol: "http", subUrl: "", socket: "" });
  });
  const stop = (signal) => {
    log("info", "server", "Shutdown started", { reason: `System signal: ${signal}` });
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", () => stop("terminated"));
  process.on("SIGINT", () => stop("interrupt"));
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    // One line that says what is wrong, then exit 1 (Grafana: "Grafana server Init Failed: ...", exit 1).
    process.stderr.write(`FATAL: grafana stand-in: ${err.message}\n`);
    process.exit(1);
  }
}

module.exports = { checkAlertingProvisioning, loadDatasources, interpolate, StartupError };
