/**
 * The whisper prune service (pipeline/whisper-prune.ts) in a deployed graphite-statsd, the same check on Docker and
 * Kubernetes: files planted with the ages a week of disuse gives them, the service restarted as runit restarts it (its
 * first pass is at start), and what is left read back. `exec` runs a command in graphite-statsd's container.
 */
import { DEFAULT_METRIC_PREFIX } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { WHISPER_PRUNE_RUN_PATH } from "../../pipeline/whisper-prune";

const WHISPER = "/opt/graphite/storage/whisper";
const SERVICE = WHISPER_PRUNE_RUN_PATH.replace(/\/run$/, "");

/** The planted files: a team's unwritten for 8 days (deleted), a team's written now and a catalog series' 8 days old (kept). */
export const PRUNE_PROBES = {
  stale: `${WHISPER}/stats_counts/prune_probe/stale.wsp`,
  fresh: `${WHISPER}/stats_counts/prune_probe/fresh.wsp`,
  catalog: `${WHISPER}/stats_counts/${DEFAULT_METRIC_PREFIX}/http_requests/prune_probe/GET/200.wsp`,
} as const;

/** `sv status` of the service while it runs (runit's format: state, service folder, pid, seconds up). */
export const PRUNE_SERVICE_RUNNING = new RegExp(`^run: ${SERVICE}: \\(pid \\d+\\) \\d+s$`);

/** What a pass of the service at its default age (168h) leaves of {@link PRUNE_PROBES}. */
export const EXPECTED_AFTER_PRUNE = [PRUNE_PROBES.fresh, PRUNE_PROBES.catalog].sort();

/**
 * Plants the probes, restarts the service, and waits (at most 60 s) until the stale probe is gone. Returns the
 * service's status line and the probes left; the probes are removed again either way (an empty file under the
 * catalog's path would be a broken series for the dashboards' wildcards).
 */
export async function pruneDeployed(exec: (...cmd: string[]) => Promise<string>): Promise<{ status: string; left: string[] }> {
  const files = Object.values(PRUNE_PROBES);
  const weekAndADay = Math.floor(Date.now() / 1000) - 8 * 86_400;
  const present = async () => (await exec("sh", "-c", `for f in ${files.join(" ")}; do [ -e "$f" ] && echo "$f"; done; true`)).split("\n").filter(Boolean).sort();
  try {
    await exec("sh", "-c", `mkdir -p ${files.map((f) => f.replace(/\/[^/]+$/, "")).join(" ")} && touch ${files.join(" ")} && touch -d @${weekAndADay} ${PRUNE_PROBES.stale} ${PRUNE_PROBES.catalog}`);
    await exec("sv", "restart", SERVICE);
    let left: string[] = [];
    await waitFor(async () => !(left = await present()).includes(PRUNE_PROBES.stale), 60_000, 500);
    return { status: (await exec("sv", "status", SERVICE)).trim(), left };
  } finally {
    await exec("rm", "-rf", `${WHISPER}/stats_counts/prune_probe`, `${WHISPER}/stats_counts/${DEFAULT_METRIC_PREFIX}/http_requests/prune_probe`);
  }
}
