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
 *     dashboard files loaded.
 * Settings come from defaults < GF_PATHS_CONFIG (grafana.ini) < GF_<SECTION>_<KEY> (or <...>__FILE) < cfg: args.
 *
 * HTTP API (same paths and JSON shapes as Grafana's, a subset): GET /api/health (adds "standin"), GET /api/user,
 * PUT /api/user/password, GET /api/datasources, /api/datasources/uid/:uid, /api/datasources/name/:name,
 * GET/POST /api/datasources/proxy/uid/:uid/<path> (and /proxy/:id/<path>) forwarded to the datasource's URL,
 * GET /api/dashboards/uid/:uid, GET /api/dashboards/home, GET /api/search. Auth: HTTP basic auth against the stored
 * users (wrong credentials: 401), else anonymous access with auth.anonymous.org_role when auth.anonymous.enabled.
 * Admins may list datasources; viewers may read dashboards, search and query through the proxy.
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
  for (const other of ["notifiers", "plugins", "alerting", "access-control"]) {
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

try {
  main();
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  // One line that says what is wrong, then exit 1 (Grafana: "Grafana server Init Failed: ...", exit 1).
  process.stderr.write(`FATAL: grafana stand-in: ${err.message}\n`);
  process.exit(1);
}
