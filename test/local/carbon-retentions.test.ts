/**
 * What a change of `graphiteRetentions` does to Graphite's data, on the real carbon-cache and whisper tools
 * (Debian's graphite-carbon and python3-whisper, the same carbon and whisper line as the image), with the files the
 * program generates: carbon applies the new schema to series it creates from then on, and leaves existing whisper
 * files as they are; scripts/resize-whisper.sh, the command README gives, brings them to the new schema with every
 * point kept once, where whisper-auto-resize (what Graphite's docs suggest) counts a count series up to three times.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { waitFor } from "../../app/src/tools/wait";
import { parseRetentions, RETENTIONS, type RetentionArchive } from "../../pipeline/graphite";
import { requireBinary } from "../../scripts/local/binaries";
import { sendPlaintext, startCarbonCache, whisperFile, whisperPoints } from "../../scripts/local/carbon";
import { mustRun, ProcessGroup, runCommand } from "../../scripts/local/processes";
import { binaries } from "../../scripts/local/stacks";

const carbon = binaries.carbonCache();
const whisperInfo = requireBinary("whisper-info", "apt-get install python3-whisper (comes with graphite-carbon)");
const autoResize = requireBinary("whisper-auto-resize", "apt-get install python3-whisper (comes with graphite-carbon)");
const skip = carbon.skip || whisperInfo.skip || autoResize.skip;

const NEW_RETENTIONS = "10s:1d,5m:90d";

/** A whisper file's archives, as whisper-info prints them. */
async function archivesOf(file: string): Promise<RetentionArchive[]> {
  const out = await mustRun(whisperInfo.path, [file]);
  return [...out.matchAll(/^secondsPerPoint: (\d+)\npoints: (\d+)$/gm)].map((m) => ({ precision: Number(m[1]), points: Number(m[2]) }));
}

const archivesFor = (retentions: string) => {
  const parsed = parseRetentions(retentions);
  if ("problem" in parsed) throw new Error(parsed.problem);
  return parsed.archives;
};

describe("carbon retentions changed on a running stack (real carbon-cache and whisper)", { skip }, () => {
  const group = new ProcessGroup();
  let carbonDir = "";
  let whisperDir = "";
  let conf = "";
  let linePort = 0;
  const fileOf = (series: string) => whisperFile(whisperDir, series);
  // Points are placed at fixed offsets from a 10-minute boundary, not from the clock: how often whisper-auto-resize
  // counts a point depends on whether its 1-minute and 10-minute slots fall on one of the 10 s points (one copy
  // overwrites another), so times taken from the clock made its count vary from run to run.
  const anchor = Math.floor(Date.now() / 1000 / 600) * 600;

  /** carbon-cache with the program's files and `retentions`, on the previous run's storage as a replaced container. */
  async function startCarbon(retentions: string) {
    const carbonCache = await startCarbonCache(group, { retentions, dir: carbonDir || undefined });
    [carbonDir, whisperDir, conf, linePort] = [carbonCache.dir, carbonCache.whisperDir, path.join(carbonCache.dir, "conf"), carbonCache.linePort];
  }

  /** Sends plaintext points at `anchor - before` and waits until every named series has its file. */
  async function send(lines: Array<[series: string, value: number, before: number]>) {
    await sendPlaintext(linePort, lines.map(([series, value, before]) => `${series} ${value} ${anchor - before}`));
    const written = await waitFor(async () => lines.every(([series]) => existsSync(fileOf(series))), 30_000, 200);
    assert.ok(written, `carbon wrote no file for ${lines.map(([series]) => series).join(", ")}`);
  }

  after(async () => {
    await group.stopAll();
    if (carbonDir) rmSync(carbonDir, { recursive: true, force: true });
  });

  it("a new series gets the configured retentions", async () => {
    await startCarbon(RETENTIONS);
    // A point 8 hours old lands in the 1-minute archive only (the 10 s one keeps 6 hours). The recent points sit in
    // one minute (from 5 min before the anchor) and in the 10 minutes before it, but on none of those slots' starts.
    await send([["stats_counts.app.old", 9, 8 * 3600 - 65], ["stats_counts.app.old", 1, 265], ["stats_counts.app.old", 2, 255]]);
    assert.deepEqual(await archivesOf(fileOf("stats_counts.app.old")), archivesFor(RETENTIONS));
  });

  it("after a change, series created from then on get the new retentions, and existing files keep theirs", async () => {
    await group.stopAll();
    await startCarbon(NEW_RETENTIONS);
    await send([["stats_counts.app.new", 3, 0], ["stats_counts.app.old", 4, 245]]);
    assert.deepEqual(await archivesOf(fileOf("stats_counts.app.new")), archivesFor(NEW_RETENTIONS));
    assert.deepEqual(await archivesOf(fileOf("stats_counts.app.old")), archivesFor(RETENTIONS));
  });

  /** The values in a file's finest archive, oldest first: the new schema's 10 s archive keeps a day, all the test wrote. */
  const points = (file: string) => whisperPoints(file).map(([, value]) => value);

  it("whisper-auto-resize brings an old count file to the new retentions but counts its recent points again (measured, why README does not give it)", async (t) => {
    // Let carbon write the last point before files are rewritten underneath it.
    await group.stopAll();
    const copy = path.join(carbonDir, "auto-resize");
    cpSync(whisperDir, copy, { recursive: true });
    const result = await runCommand(autoResize.path, [copy, conf, "--doit", "--quiet"], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const file = whisperFile(copy, "stats_counts.app.old");
    assert.deepEqual(await archivesOf(file), archivesFor(NEW_RETENTIONS));
    const total = points(file).reduce((a, b) => a + b, 0);
    t.diagnostic(`whisper-auto-resize: a count series of 16 reads ${total} in its 10 s archive`);
    // whisper-resize copies every old archive into the new 10 s one, coarsest first: the 8-hour-old 9 from the 10-minute
    // and the 1-minute archives (2 x 9), the recent 1 + 2 + 4 from those two archives and from the 10 s one (3 x 7).
    assert.equal(total, 2 * 9 + 3 * 7, `whisper-auto-resize counted ${total}: README's warning needs a new figure`);
  });

  it("scripts/resize-whisper.sh brings every old file to the new retentions with each point once, and leaves new files alone", async () => {
    const script = path.join(__dirname, "..", "..", "scripts", "resize-whisper.sh");
    const result = await runCommand("sh", [script, NEW_RETENTIONS, whisperDir], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.stdout.trim(), `resize-whisper: 1 file(s) brought to ${NEW_RETENTIONS}, 1 already on it`);
    assert.deepEqual(await archivesOf(fileOf("stats_counts.app.old")), archivesFor(NEW_RETENTIONS));
    assert.deepEqual(points(fileOf("stats_counts.app.old")), [9, 1, 2, 4]);
    assert.deepEqual(points(fileOf("stats_counts.app.new")), [3]);
  });
});
