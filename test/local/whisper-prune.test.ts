/**
 * graphite-statsd's disk bound (`graphiteOwnMetricsPruneAfter`, pipeline/whisper-prune.ts): the generated runit run
 * script, run as runit runs it, on whisper files the real carbon-cache (Debian's graphite-carbon) created, under the
 * two shells and finds it meets: dash and GNU find (the Debian stand-in image), busybox sh and busybox find (the real
 * Alpine image; Debian's busybox is built without find's -delete, which the script must not need).
 *
 * The files' ages are set by hand (utimes): the script goes by the time of the last write, and an hour cannot pass in
 * a test. carbon is stopped first, so it does not write its own files again meanwhile.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../app/src/tools/wait";
import { whisperPruneScript } from "../../pipeline/whisper-prune";
import { requireBinary } from "../../scripts/local/binaries";
import { sendPlaintext, startCarbonCache, whisperFile } from "../../scripts/local/carbon";
import { ProcessGroup } from "../../scripts/local/processes";
import { binaries } from "../../scripts/local/stacks";

const carbon = binaries.carbonCache();
const busybox = requireBinary("busybox", "apt-get install busybox-static");
const dash = requireBinary("dash", "apt-get install dash");

const PREFIX = "sample_api";
const PRUNE_AFTER = "1h";

/** Series carbon creates, and how long ago each was last written when the script looks. */
const SERIES: ReadonlyArray<readonly [series: string, minutesAgo: number]> = [
  // A team's names: gone once an hour old, kept younger.
  ["stats_counts.team.orders.placed", 120],
  ["stats.team.orders.placed", 120],
  ["stats.timers.team.checkout.mean", 61],
  ["stats.gauges.team.queue_depth", 24 * 60],
  ["stats.gauges.team.workers", 59],
  ["stats.sets.team.users.count", 0],
  // The catalog's series under the app's prefix, statsd's own: kept at any age.
  ["stats_counts.sample_api.http_requests.home.GET.200", 24 * 60],
  ["stats.sample_api.http_requests.home.GET.200", 24 * 60],
  ["stats.timers.sample_api.http_request_duration_ms.home.GET.200.mean", 24 * 60],
  ["stats_counts.sample_api.app_info.sample-api.1_0_0", 24 * 60],
  ["stats.statsd.packets_received", 24 * 60],
  ["stats.gauges.statsd.timestamp_lag", 24 * 60],
  ["statsd.numStats", 24 * 60],
  // A name outside the catalog that starts like one of its names is not one of them.
  ["stats_counts.sample_api.http_requests_total", 120],
];
const PRUNED = [
  "stats_counts.team.orders.placed",
  "stats.team.orders.placed",
  "stats.timers.team.checkout.mean",
  "stats.gauges.team.queue_depth",
  "stats_counts.sample_api.http_requests_total",
];

/** Empty folders: one left from before (gone), one carbon has just made (kept: its file is about to be created). */
const EMPTY_FOLDERS: ReadonlyArray<readonly [folder: string, minutesAgo: number]> = [
  ["stats_counts/retired", 120],
  ["stats_counts/arriving", 0],
];

/** Every file and folder under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      out.push(entry.isDirectory() ? `${child}/` : child);
      if (entry.isDirectory()) walk(child);
    }
  };
  walk("");
  return out.sort();
}

const relFile = (series: string) => `${series.split(".").join("/")}.wsp`;
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe(`the whisper prune service (graphiteOwnMetricsPruneAfter ${PRUNE_AFTER}) on carbon's files`, { skip: carbon.skip || busybox.skip || dash.skip }, () => {
  const group = new ProcessGroup();
  const work = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-prune-"));
  let carbonDir = "";
  /** The whisper tree carbon wrote, its own report files included, before any age is set. */
  const pristine = path.join(work, "pristine");
  let carbonFiles: string[] = [];

  before(async () => {
    const carbonCache = await startCarbonCache(group);
    carbonDir = carbonCache.dir;
    const now = Math.floor(Date.now() / 1000);
    await sendPlaintext(carbonCache.linePort, SERIES.map(([series]) => `${series} 1 ${now}`));
    const files = SERIES.map(([series]) => whisperFile(carbonCache.whisperDir, series));
    assert.ok(await waitFor(async () => files.every((f) => existsSync(f)), 30_000, 200), `carbon did not create every file\n${carbonCache.proc.output()}`);
    await carbonCache.nextReport(30);
    await group.stopAll();
    cpSync(carbonCache.whisperDir, pristine, { recursive: true });
    carbonFiles = tree(pristine).filter((p) => p.startsWith("carbon/") && p.endsWith(".wsp"));
  });

  after(async () => {
    await group.stopAll();
    rmSync(work, { recursive: true, force: true });
    if (carbonDir) rmSync(carbonDir, { recursive: true, force: true });
  });

  /** A copy of carbon's tree with the ages of SERIES and EMPTY_FOLDERS, carbon's own files a day old. */
  function agedCopy(name: string): string {
    const dir = path.join(work, name, "whisper");
    cpSync(pristine, dir, { recursive: true });
    for (const file of carbonFiles) utimesSync(path.join(dir, file), ago(24 * 60), ago(24 * 60));
    for (const [series, minutes] of SERIES) utimesSync(path.join(dir, relFile(series)), ago(minutes), ago(minutes));
    for (const [folder, minutes] of EMPTY_FOLDERS) {
      mkdirSync(path.join(dir, folder));
      utimesSync(path.join(dir, folder), ago(minutes), ago(minutes));
    }
    return dir;
  }

  /**
   * Runs the script as runit would (its own process, looping) with `shell` and a PATH of `bin`, waits for its first
   * look, then stops it with TERM as `sv` does. Returns what it printed and how it ended; its sleep must be gone too.
   */
  async function runService(name: string, shell: string, bin: string) {
    const whisperDir = agedCopy(name);
    const script = path.join(work, name, "run");
    writeFileSync(script, whisperPruneScript({ whisperDir, pruneAfter: PRUNE_AFTER, metricPrefix: PREFIX }), { mode: 0o755 });
    const proc = group.start(`whisper-prune (${name})`, shell, [script], { env: { PATH: bin } });
    let printed = "";
    proc.child.stdout!.on("data", (d: Buffer) => (printed += d.toString()));
    const looked = await waitFor(async () => printed.includes("\n"), 30_000, 50);
    assert.ok(looked, `the service printed nothing in 30 s\n${proc.output()}`);
    // The sleep it started after its look: runit's TERM must not leave it behind.
    const childrenOf = () => readFileSync(`/proc/${proc.child.pid}/task/${proc.child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    let children: string[] = [];
    await waitFor(async () => (children = childrenOf()).length > 0, 5000, 20);
    const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.child.once("exit", (code, signal) => resolve({ code, signal })));
    proc.child.kill("SIGTERM");
    const end = await ended;
    const sleepGone = await waitFor(async () => children.every((pid) => !existsSync(`/proc/${pid}`)), 5000, 50);
    return { whisperDir, printed, end, children, sleepGone, output: proc.output() };
  }

  const expectedTree = () => {
    const all = tree(pristine);
    const removed = new Set(PRUNED.map(relFile));
    return [...all.filter((p) => !removed.has(p)), "stats_counts/arriving/"].sort();
  };

  for (const [name, shellOf, binOf] of [
    ["dash and GNU find", () => dash.path, () => process.env.PATH ?? ""],
    ["busybox sh and busybox find", () => path.join(busyboxBin(work), "sh"), () => busyboxBin(work)],
  ] as const) {
    describe(`under ${name}`, () => {
      let run: Awaited<ReturnType<typeof runService>>;
      before(async () => {
        run = await runService(name.replace(/ /g, "-"), shellOf(), binOf());
      });

      it("deletes exactly the files of names outside the catalog not written for an hour, and the folder empty for over a minute", () => {
        assert.deepEqual(tree(run.whisperDir), expectedTree(), run.output);
      });

      it("says what it deleted, once per look", () => {
        assert.equal(run.printed, `whisper-prune: deleted ${PRUNED.length} whisper files not written for ${PRUNE_AFTER} and 1 empty folders\n`);
      });

      it("stops at TERM with exit code 0, and its sleep with it", () => {
        assert.deepEqual(run.end, { code: 0, signal: null });
        assert.equal(run.children.length, 1, `children of the service while it slept: ${run.children.join(" ")}`);
        assert.ok(run.sleepGone, `its sleep (pid ${run.children.join(" ")}) still runs`);
      });
    });
  }
});

/**
 * A folder whose sh, find, sleep, wc, rm and rmdir are busybox's, as on the Alpine image (busybox picks the applet
 * by the name it is started as).
 */
function busyboxBin(work: string): string {
  const bin = path.join(work, "busybox-bin");
  if (!existsSync(bin)) {
    mkdirSync(bin);
    for (const applet of ["find", "sleep", "wc", "rm", "rmdir", "sh"]) symlinkSync(busybox.path, path.join(bin, applet));
  }
  return bin;
}
