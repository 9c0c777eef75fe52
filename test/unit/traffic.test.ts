/**
 * The count comparison that proves a backend counted exactly the requests sent (the end-to-end tests and
 * `npm run smoke`): every request-count series of the app that moved, moved by exactly what was sent, and no other.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GraphiteSeries, PromSample } from "../../scripts/checks/backends";
import { asObject, countChanges, countKey, countMismatches, graphiteCounts, prometheusCounts, rangeSince, servedCounts, type Counts } from "../../scripts/checks/traffic";
import type { LoadSummary } from "../../app/src/tools/load";

const counts = (entries: Record<string, number>): Counts => new Map(Object.entries(entries));

/** What a load sent, by series. */
const sent = counts({ "/ GET 200": 120, "/cpu_task GET 200": 120, "/random_status GET 500": 12, "unmatched GET 404": 20 });

/** The app's series before the load: some counted earlier, one idle at zero (statsd reports idle counters as 0). */
const before = counts({ "/ GET 200": 40, "/ POST 200": 5, "/cpu_task GET 200": 7, "/io_task GET 200": 0 });

/** `before` plus `moved`, as the backend would read after the load. */
function plus(base: Counts, moved: Counts): Counts {
  const out = new Map(base);
  for (const [k, n] of moved) out.set(k, (out.get(k) ?? 0) + n);
  return out;
}

/** Exactly the load, plus `extra` (which may be negative). */
const afterLoadWith = (extra: Record<string, number> = {}) => plus(plus(before, sent), counts(extra));

describe("countMismatches", () => {
  it("a clean run reports nothing: series that did not move and series new with the load are fine", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith()), []);
  });

  it("reports an extra count under another status of an expected route", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "/cpu_task GET 500": 1 })), ["/cpu_task GET 500: counted 1, none sent"]);
  });

  it("reports a POST (non-GET) count, though the load sent only GETs", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "/ POST 200": 3 })), ["/ POST 200: counted 3, none sent"]);
  });

  it("reports a route counted twice", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "/cpu_task GET 200": 120 })), ["/cpu_task GET 200: sent 120, counted 240"]);
  });

  it("reports requests counted a second time under another route", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "unmatched GET 200": 120 })), ["unmatched GET 200: counted 120, none sent"]);
  });

  it("reports a series that moved by less than was sent", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "/ GET 200": -1 })), ["/ GET 200: sent 120, counted 119"]);
  });

  it("reports an expected series that did not move", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "unmatched GET 404": -20 })), ["unmatched GET 404: sent 20, not counted"]);
  });

  it("reports an expected series missing from both readings", () => {
    assert.deepEqual(countMismatches(counts({ "/io_task GET 300": 2 }), new Map(), new Map()), ["/io_task GET 300: sent 2, not counted"]);
  });

  it("reports a series that went down", () => {
    assert.deepEqual(countMismatches(sent, before, afterLoadWith({ "/ POST 200": -5 })), ["/ POST 200: counted -5, none sent"]);
  });

  it("reports every problem at once, one line per series, sorted by key", () => {
    const after = afterLoadWith({ "/random_status GET 500": 12, "/ DELETE 204": 1, "unmatched GET 404": -20, "/ GET 200": -1 });
    assert.deepEqual(countMismatches(sent, before, after), [
      "/ DELETE 204: counted 1, none sent",
      "/ GET 200: sent 120, counted 119",
      "/random_status GET 500: sent 12, counted 24",
      "unmatched GET 404: sent 20, not counted",
    ]);
  });

  it("with nothing sent, reports every series that moved", () => {
    assert.deepEqual(countMismatches(new Map(), before, plus(before, counts({ "/ HEAD 200": 2 }))), ["/ HEAD 200: counted 2, none sent"]);
    assert.deepEqual(countMismatches(new Map(), before, before), []);
  });
});

describe("countChanges", () => {
  it("is after - before for every series that moved, and leaves out the ones that did not", () => {
    assert.deepEqual(
      countChanges(before, afterLoadWith({ "/ POST 200": 3 })),
      counts({ "/ GET 200": 120, "/ POST 200": 3, "/cpu_task GET 200": 120, "/random_status GET 500": 12, "unmatched GET 404": 20 }),
    );
  });
});

describe("countKey", () => {
  it("is route, method and status", () => {
    assert.equal(countKey("/cpu_task", "GET", 200), "/cpu_task GET 200");
  });
});

describe("the backend readers read every series of the app", () => {
  it("graphiteCounts reads every route, method and status with one wildcard, and keeps a route it does not know", async () => {
    const targets: string[] = [];
    const series = (target: string, ...values: Array<number | null>): GraphiteSeries => ({
      target: `stats_counts.sample_api.http_requests.${target}`,
      datapoints: values.map((v, i) => [v, 1_000 + 10 * i] as const),
    });
    const api = {
      async render(target: string, from?: string): Promise<GraphiteSeries[]> {
        targets.push(`${target} from ${from}`);
        return [
          series("root.GET.200", 3, null, 4),
          series("root.POST.200", 0, 2),
          series("cpu_task.GET.500", 1),
          series("unmatched.GET.404", 0, 0),
          series("some_page.GET.200", 1),
        ];
      },
    };
    assert.deepEqual(
      await graphiteCounts(api, "sample_api", 1_000),
      counts({ "/ GET 200": 7, "/ POST 200": 2, "/cpu_task GET 500": 1, "unmatched GET 404": 0, "some_page GET 200": 1 }),
    );
    assert.deepEqual(targets, ["stats_counts.sample_api.http_requests.*.*.* from 1000"]);
  });

  it("prometheusCounts sums the app's request counter by route, method and status", async () => {
    const queries: string[] = [];
    const api = {
      async query(expr: string, atEpoch?: number): Promise<PromSample[]> {
        queries.push(`${expr} @${atEpoch}`);
        return [
          { metric: { route: "/", method: "GET", status: "200" }, value: 7 },
          { metric: { route: "/", method: "POST", status: "200" }, value: 2 },
          { metric: { route: "unmatched", method: "GET", status: "404" }, value: 0 },
        ];
      },
    };
    assert.deepEqual(
      await prometheusCounts(api, "http_requests_total", "sample-api", Date.now() / 1000 - 30),
      counts({ "/ GET 200": 7, "/ POST 200": 2, "unmatched GET 404": 0 }),
    );
    assert.equal(queries.length, 1);
    assert.match(queries[0]!, /^sum by \(route, method, status\) \(increase\(http_requests_total\{app_name="sample-api"\}\[3\d{4}ms\] anchored\)\) @\d+(\.\d+)?$/);
  });
});

describe("rangeSince", () => {
  it("spans from the given instant to now to the millisecond, evaluated at now: never starting before the instant", () => {
    assert.deepEqual(rangeSince(1_000.25, 1_030_500), { range: "30250ms", at: 1_030.5 });
  });

  it("is at least 1 ms long, ending after the instant, when now is the instant itself", () => {
    assert.deepEqual(rangeSince(1_000.25, 1_000_250), { range: "1ms", at: 1_000.251 });
  });
});

describe("servedCounts", () => {
  it("adds up the answered requests of several load runs by route, method and status; unanswered ones (status 0) and unknown paths as the app reports them", () => {
    const run = (byPath: Record<string, Record<number, number>>) => ({ requests: 0, failures: 0, statuses: {}, byPath }) as unknown as LoadSummary;
    assert.deepEqual(
      asObject(servedCounts([run({ "/": { 200: 3, 0: 2 }, "/random_status": { 500: 1 } }), run({ "/": { 200: 4 }, "/nope": { 404: 1 } })])),
      { "/ GET 200": 7, "/random_status GET 500": 1, "unmatched GET 404": 1 },
    );
  });
});
