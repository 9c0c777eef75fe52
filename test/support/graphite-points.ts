/** What a deployed graphite-web shows, as the deploy tiers check it. */
import { waitFor } from "../../app/src/tools/wait";
import { GraphiteApi } from "../../scripts/checks/backends";

/**
 * Whether `series` shows a point of exactly `value` in graphite-web's last 5 minutes within 60 s: a line statsd
 * received is written at its next flush (10 s), and graphite-web may answer from its 60 s cache meanwhile.
 */
export async function graphiteShows(graphiteUrl: string, series: string, value: number): Promise<boolean> {
  const graphite = new GraphiteApi(graphiteUrl);
  return waitFor(async () => (await graphite.render(series, "-5min")).some((s) => s.datapoints.some(([v]) => v === value)), 60_000, 1000);
}
