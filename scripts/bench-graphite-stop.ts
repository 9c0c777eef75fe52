/**
 * Does stopping graphite-statsd keep what carbon holds in its cache? (a benchmark: it prints figures, it asserts
 * nothing). About 2 minutes, needs Docker and the graphite image (config graphiteImage; on the test machines the
 * stand-in test/images/build.sh builds):
 *
 *   npm run bench:graphite-stop
 *   npm run bench:graphite-stop -- --series 400 --rate 20
 *
 * The image stops its services with runit's `sv force-stop`, which kills a service still running after $SVWAIT
 * seconds (7 by default); carbon-cache writes its whole cache before it exits. For each case the container runs with
 * the program's carbon.conf and storage files, its whisper folder on this machine: `--series` series get one point
 * each and their files are created, then each gets a second point, and the container is stopped at once with the
 * program's stop timeout. carbon's writer is held to `--rate` updates a second (the program's is 500) so that
 * writing the cache takes longer than runit's default wait, as a cache of tens of thousands of series does at 500.
 * Printed per case: how long `docker stop` took, and how many second points reached the whisper files.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { waitFor } from "../app/src/tools/wait";
import { DEFAULT_IMAGES } from "../pipeline/config-keys";
import { carbonConf, GRAPHITE_SERVICE_STOP_SECONDS, GRAPHITE_STOP_SECONDS, storageAggregationConf, storageSchemasConf } from "../pipeline/graphite";
import { INTERNAL_PORTS } from "../pipeline/ports";
import { sendPlaintext, whisperFile, whisperPoints } from "./local/carbon";
import { freeTcpPort } from "./local/processes";

const { values } = parseArgs({
  options: {
    series: { type: "string", default: "400" },
    rate: { type: "string", default: "20" },
    image: { type: "string", default: DEFAULT_IMAGES.graphiteImage },
  },
});
const SERIES = Number(values.series);
const RATE = Number(values.rate);

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

interface Case {
  readonly name: string;
  readonly env: Record<string, string>;
}

const CASES: readonly Case[] = [
  { name: "runit's default wait (no SVWAIT)", env: {} },
  { name: `the program's (SVWAIT=${GRAPHITE_SERVICE_STOP_SECONDS})`, env: { SVWAIT: String(GRAPHITE_SERVICE_STOP_SECONDS) } },
];

async function run(c: Case): Promise<{ stopSeconds: number; written: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "statsd-stack-stop-"));
  const whisper = path.join(dir, "whisper");
  const conf = (file: string, text: string) => writeFileSync(path.join(dir, file), text);
  conf("carbon.conf", carbonConf({
    storageDir: "/opt/graphite/storage",
    listenAddress: "0.0.0.0",
    linePort: INTERNAL_PORTS.carbonPlaintext,
    picklePort: INTERNAL_PORTS.carbonPickle,
    cacheQueryPort: INTERNAL_PORTS.carbonCacheQuery,
    graphiteUrl: `http://127.0.0.1:${INTERNAL_PORTS.graphiteWebGunicorn}`,
    maxUpdatesPerSecond: RATE,
  }));
  conf("storage-schemas.conf", storageSchemasConf());
  conf("storage-aggregation.conf", storageAggregationConf());
  const port = await freeTcpPort();
  const name = `statsd-stack-bench-stop-${process.pid}`;
  const mount = (file: string) => ["-v", `${path.join(dir, file)}:/opt/graphite/conf/${file}:ro`];
  try {
    docker(
      "run", "-d", "--name", name,
      ...Object.entries(c.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      "-e", "CARBON_AGGREGATOR_DISABLED=1", "-e", "CARBON_RELAY_DISABLED=1", "-e", "REDIS_DISABLED=1", "-e", "COLLECTD_DISABLED=1",
      ...mount("carbon.conf"), ...mount("storage-schemas.conf"), ...mount("storage-aggregation.conf"),
      "-v", `${whisper}:/opt/graphite/storage/whisper`,
      "-p", `127.0.0.1:${port}:${INTERNAL_PORTS.carbonPlaintext}`,
      values.image,
    );
    const names = Array.from({ length: SERIES }, (_, i) => `bench_stop.series_${i}`);
    // Docker's port forward accepts connections before carbon listens: ask inside the container.
    const listening = await waitFor(async () => {
      try {
        docker("exec", name, "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${INTERNAL_PORTS.carbonPlaintext}`);
        return true;
      } catch {
        return false;
      }
    }, 60_000, 500);
    if (!listening) throw new Error("carbon never listened");
    const first = Math.floor(Date.now() / 10_000) * 10 - 600;
    await sendPlaintext(port, names.map((n) => `${n} 1 ${first}`));
    const created = await waitFor(async () => names.every((n) => existsSync(whisperFile(whisper, n))), SERIES / RATE * 1000 + 60_000, 1000);
    if (!created) throw new Error("carbon did not create every file");
    // Wait out the first points' writes: an update of a file already written holds only its second point.
    await new Promise((r) => setTimeout(r, (SERIES / RATE) * 1000 + 2000));
    await sendPlaintext(port, names.map((n) => `${n} 2 ${first + 10}`));
    await new Promise((r) => setTimeout(r, 1000));
    const start = process.hrtime.bigint();
    docker("stop", "-t", String(GRAPHITE_STOP_SECONDS), name);
    const stopSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const written = names.filter((n) => whisperPoints(whisperFile(whisper, n)).some(([t, v]) => t === first + 10 && v === 2)).length;
    return { stopSeconds, written };
  } finally {
    try {
      docker("rm", "-f", name);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`${SERIES} series with one cached point each, carbon writing ${RATE} series/s; docker stop -t ${GRAPHITE_STOP_SECONDS}`);
  console.log("| case | docker stop took | cached points written |");
  console.log("|---|---|---|");
  for (const c of CASES) {
    const r = await run(c);
    console.log(`| ${c.name} | ${r.stopSeconds.toFixed(1)} s | ${r.written} of ${SERIES} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
