/**
 * The deployment tier on Docker: the real Pulumi CLI runs the program as a user does (a copy of this project with
 * its own Pulumi.yaml and stack files, local state, a passphrase) against a real Docker engine, for both stacks at
 * once. The images are local builds (test/images/build.sh) tagged with the pinned names, so the program runs them
 * without pulling: statsd_exporter v0.30.0, Prometheus v3.13.5, Debian's carbon and graphite-web with Etsy statsd,
 * and the sample API built from app/Dockerfile. Grafana cannot be built here: a stand-in
 * (statsd-stack-test/grafana-standin, selected with the grafanaImage key) checks what the program gives Grafana and
 * serves the part of Grafana's API the tests use.
 */
import assert from "node:assert/strict";
import { after, before, describe, it, type TestContext } from "node:test";
import { catalog } from "../../app/src/metrics/catalog";
import { waitFor } from "../../app/src/tools/wait";
import { PrometheusApi } from "../../scripts/checks/backends";
import { FaultRunner, lossBound, type FaultCaseResult } from "../../scripts/checks/faults";
import { containerId, containers, docker, execIn, images, imagePulls, networks, oomKill, oomKilledSince, restartCount, volumes, type ContainerState } from "../support/docker";
import { EXPORTER_MEMORY_LIMIT_BYTES, PROMETHEUS_MEMORY_LIMIT_BYTES } from "../support/oom";
import { deployReleaseThenSwitch, deploymentTier, GRAFANA_STANDIN, grafanaLogin, releaseTree, RELEASE_BEFORE_RENAME, type ReleaseUpgrade, type Tier } from "../support/deployment";
import type { CliResult, PulumiProject } from "../support/pulumi-cli";
import { failureReport } from "../../scripts/local/processes";
import { sendStatsd } from "../support/udp";
import { assertOnlyStackAdminPassword, EXPECTED_GRAPHITE_WEB_ANSWERS, graphiteWebAnswers, PRINT_GRAPHITE_SECRET_KEY } from "../support/graphite-admin";
import { AlertScenario, SCENARIO_CONFIG } from "../support/alert-scenario";
import {
  configureTeamExtensions,
  deployedTeamRules,
  deployedTeamSeries,
  deployedTeamWhisperInfo,
  EXPECTED_TEAM_RULES,
  expectedTeamWhisperInfo,
  TEAM_LINE,
} from "../support/team-extensions";
import { oomKillStatsd } from "../support/graphite-oom";
import { graphiteShows } from "../support/graphite-points";
import { EXPECTED_AFTER_PRUNE, PRUNE_SERVICE_RUNNING, pruneDeployed } from "../support/whisper-prune";
import { receiverContainer, receiverWebhookUrl, type WebhookReceiver } from "../support/webhook-beside-stack";
import { randomBytes } from "node:crypto";
import { DOCKERD, recordedPid, restartDaemon } from "../support/daemons";
import { describeLoad, ScaleOutReader, SteadyLoad } from "../support/scale-out";
import { graphiteStoredSeries, LIST_WHISPER_FILES, lostAcross, prometheusStoredSeries, PROBE_TOTAL, type StoredFigures, type StoredSeriesReader } from "../support/stored-series";

const tier: Tier = deploymentTier("docker");
const release = tier.skip ? { dir: "", skip: tier.skip } : releaseTree(RELEASE_BEFORE_RENAME);
/** When Docker created a volume: the same volume keeps it, a new one under the same name does not. */
/** A file the upgrade test writes on graphite-statsd's data volume: still there after the upgrade means the data was kept. */
const MARKER = "/opt/graphite/storage/written-by-the-release-before-the-rename";

const prefixOf = (stack: string) => `statsd-stack-${stack}-`;
/** The fault cases' load: enough requests that a restart's window holds many, few enough for a loaded 2-core machine. */
const FAULT_RATE = 20;
const FAULT_SECONDS = 30;
/** The token in the exporter stack's webhook URL: a secret the tests look for in plain places. */
const WEBHOOK_TOKEN = randomBytes(12).toString("hex");
/** The graphite stack's data volume, which its dataOnDestroy retain keeps. */
const RETAINED_VOLUME = "statsd-stack-graphite-graphite-data-0";
const healthy = (c: ContainerState) => `${c.name} ${c.status} ${c.health ?? "no health check"}`;

describe("deployment on Docker by the real Pulumi CLI (Grafana is a stand-in)", { skip: tier.skip }, () => {
  let project: PulumiProject;
  const started = Math.floor(Date.now() / 1000);
  const up: Record<string, CliResult> = {};
  const outputs: Record<string, Record<string, unknown>> = {};

  before(async () => {
    project = tier.project("docker");
    for (const stack of ["graphite", "exporter"]) {
      await project.must(["stack", "init", stack]);
      // The one setting this machine needs: Grafana's image cannot be had here.
      await project.must(["config", "set", "grafanaImage", GRAFANA_STANDIN, "--stack", stack]);
    }
    // The alert scenario's short timers, and notifications to the receiver the alert tests start on the network.
    for (const [key, value] of Object.entries(SCENARIO_CONFIG)) await project.must(["config", "set", key, value, "--stack", "exporter"]);
    await project.must(["config", "set", "--secret", "alertWebhookUrl", receiverWebhookUrl(WEBHOOK_TOKEN), "--stack", "exporter"]);
    // The graphite stack's Grafana gets the same webhook, for its Grafana-managed rules' contact point.
    await project.must(["config", "set", "--secret", "alertWebhookUrl", receiverWebhookUrl(WEBHOOK_TOKEN), "--stack", "graphite"]);
    // A team's own mapping and rule file (exporter) and carbon sections (graphite), set as README shows.
    for (const stack of ["graphite", "exporter"] as const) await configureTeamExtensions(project, stack);
    // The graphite stack keeps its data on destroy (README, Storage): tested at the end.
    await project.must(["config", "set", "dataOnDestroy", "retain", "--stack", "graphite"]);
  });

  after(async () => {
    // Whatever a failed test left running goes; the tests below prove destroy itself.
    for (const stack of ["graphite", "exporter", "badconfig"]) await project?.pulumi(["destroy", "--yes", "--stack", stack]);
    await docker("volume", "rm", "--force", RETAINED_VOLUME).catch(() => undefined);
    project?.remove();
  });

  describe("graphite stack", () => {
    before(async () => {
      up.graphite = await project.pulumi(["up", "--yes", "--stack", "graphite"]);
      if (up.graphite.code === 0) outputs.graphite = await project.outputs("graphite");
    });

    it("pulumi up succeeds, and reports how long it took until every container was healthy", (t) => {
      assert.equal(up.graphite!.code, 0, failureReport(up.graphite!));
      t.diagnostic(`graphite: pulumi up from nothing to every container healthy in ${up.graphite!.seconds.toFixed(1)} s`);
    });

    it("runs graphite-statsd, the app and Grafana, each running and healthy", async () => {
      assert.deepEqual((await containers(prefixOf("graphite"))).map(healthy), [
        "statsd-stack-graphite-grafana-0 running healthy",
        "statsd-stack-graphite-graphite-0 running healthy",
        "statsd-stack-graphite-sample-api-0 running healthy",
      ]);
    });

    it("publishes every port on 127.0.0.1 only: the API, Grafana, graphite-web and StatsD (UDP)", async () => {
      const published = (await containers(prefixOf("graphite"))).flatMap((c) => c.published).sort();
      assert.deepEqual(published, ["127.0.0.1:3000->3000/tcp", "127.0.0.1:8000->8000/tcp", "127.0.0.1:8080->80/tcp", "127.0.0.1:8125->8125/udp"]);
    });

    it("runs the app as uid 1000 with a read-only root filesystem, and Grafana as uid 472", async () => {
      const byName = Object.fromEntries((await containers(prefixOf("graphite"))).map((c) => [c.name, [c.user, c.readOnly]]));
      assert.deepEqual(byName, {
        "statsd-stack-graphite-grafana-0": ["472:0", false],
        "statsd-stack-graphite-graphite-0": ["", false],
        "statsd-stack-graphite-sample-api-0": ["1000:1000", true],
      });
    });

    it("graphite-web refuses root/root at /admin/, and admits root with the stack's graphiteAdminPassword", async () => {
      await assertOnlyStackAdminPassword(String(outputs.graphite!.graphiteUrl), String(outputs.graphite!.graphiteAdminPassword));
    });

    it("graphite-web's published port (nginx) refuses every write endpoint and other methods, and serves the reads Grafana makes", async () => {
      assert.deepEqual(await graphiteWebAnswers(String(outputs.graphite!.graphiteUrl)), EXPECTED_GRAPHITE_WEB_ANSWERS);
    });

    it("graphite-web signs with the stack's generated SECRET_KEY, and Grafana runs with its generated secret_key", async () => {
      const graphiteKey = await project.stateOutput("graphite", "pipeline-graphite-secret-key", "result");
      assert.equal((await execIn("statsd-stack-graphite-graphite-0", ...PRINT_GRAPHITE_SECRET_KEY)).trim(), graphiteKey);
      const grafanaKey = await project.stateOutput("graphite", "pipeline-grafana-secret-key", "result");
      assert.equal((await execIn("statsd-stack-graphite-grafana-0", "printenv", "GF_SECURITY_SECRET_KEY")).trim(), grafanaKey);
    });

    it("counts a StatsD line sent from this machine to the published UDP port in Graphite", async () => {
      await sendStatsd(8125, "deploy_test.hits:3|c");
      assert.ok(await graphiteShows(String(outputs.graphite!.graphiteUrl), "stats_counts.deploy_test.hits", 3), "stats_counts.deploy_test.hits never showed 3 within 60 s");
    });

    it("carbon creates a team's new series with the team's archives and rollup (config graphiteSchemas, graphiteAggregation)", async () => {
      const info = await deployedTeamWhisperInfo(8125, (...cmd) => execIn("statsd-stack-graphite-graphite-0", ...cmd));
      assert.deepEqual(info, expectedTeamWhisperInfo());
    });

    it("runs the whisper prune service: a team's file unwritten for 8 days is deleted, a fresh one and the catalog's kept (graphiteOwnMetricsPruneAfter 168h)", async () => {
      const { status, left } = await pruneDeployed((...cmd) => execIn("statsd-stack-graphite-graphite-0", ...cmd));
      assert.match(status, PRUNE_SERVICE_RUNNING);
      assert.deepEqual(left, EXPECTED_AFTER_PRUNE);
    });

    it("statsd OOM-killed inside graphite-statsd (the kernel, at the container's limit) is started again by runit in the same container, and counts a line sent after it", async () => {
      const container = "statsd-stack-graphite-graphite-0";
      const id = await containerId(container);
      const killed = await oomKillStatsd((...cmd) => execIn(container, ...cmd));
      // The kernel may kill more than statsd: when what statsd held is less than the allocations under way need, it
      // takes the next largest process too (a gunicorn worker, seen once; gunicorn forks it again). Hence at least
      // one kill, and graphite-web answering the render below.
      assert.deepEqual(
        { statsdRestarted: killed.statsdRestarted, killed: killed.oomKills >= 1, sameContainer: (await containerId(container)) === id, restarts: await restartCount(container) },
        { statsdRestarted: true, killed: true, sameContainer: true, restarts: 0 },
        `the kernel's OOM kills: ${killed.oomKills}`,
      );
      await sendStatsd(8125, "deploy_test.after_oom:4|c");
      assert.ok(await graphiteShows(String(outputs.graphite!.graphiteUrl), "stats_counts.deploy_test.after_oom", 4), "stats_counts.deploy_test.after_oom never showed 4 within 60 s");
    });
  });

  describe("exporter stack, beside the graphite stack", () => {
    before(async () => {
      up.exporter = await project.pulumi(["up", "--yes", "--stack", "exporter"]);
      if (up.exporter.code === 0) outputs.exporter = await project.outputs("exporter");
    });

    it("pulumi up succeeds while the graphite stack runs, and reports how long it took", (t) => {
      assert.equal(up.exporter!.code, 0, failureReport(up.exporter!));
      t.diagnostic(`exporter: pulumi up from nothing to every container healthy in ${up.exporter!.seconds.toFixed(1)} s`);
    });

    it("runs statsd_exporter, Prometheus, Alertmanager, the app and Grafana, each running and healthy", async () => {
      assert.deepEqual((await containers(prefixOf("exporter"))).map(healthy), [
        "statsd-stack-exporter-alertmanager-0 running healthy",
        "statsd-stack-exporter-grafana-0 running healthy",
        "statsd-stack-exporter-prometheus-0 running healthy",
        "statsd-stack-exporter-sample-api-0 running healthy",
        "statsd-stack-exporter-statsd-exporter-0 running healthy",
      ]);
    });

    it("publishes every port on 127.0.0.1 only, none of them one the graphite stack uses", async () => {
      const published = (await containers(prefixOf("exporter"))).flatMap((c) => c.published).sort();
      assert.deepEqual(published, [
        "127.0.0.1:3001->3000/tcp",
        "127.0.0.1:8100->8000/tcp",
        "127.0.0.1:9090->9090/tcp",
        "127.0.0.1:9093->9093/tcp",
        "127.0.0.1:9102->9102/tcp",
        "127.0.0.1:9125->9125/udp",
      ]);
    });

    it("the graphite stack is still running and healthy beside it", async () => {
      assert.deepEqual((await containers(prefixOf("graphite"))).map((c) => `${c.status} ${c.health}`), ["running healthy", "running healthy", "running healthy"]);
    });

    it("counts a StatsD line with DogStatsD tags sent from this machine to the published UDP port in Prometheus, tags as labels", async () => {
      await sendStatsd(9125, "deploy_test_hits:3|c|#team:payments");
      const prom = new PrometheusApi(String(outputs.exporter!.prometheusUrl));
      const counted = await waitFor(async () => (await prom.query('deploy_test_hits{team="payments"}')).some((s) => s.value === 3), 60_000, 1000);
      assert.ok(counted, 'deploy_test_hits{team="payments"} never read 3 within 60 s');
    });

    it("statsd_exporter maps a team's line by config exporterMappings, and Prometheus loaded the team's rule group from prometheusRulesFile", async () => {
      assert.deepEqual(await deployedTeamSeries(9125, String(outputs.exporter!.exporterMetricsUrl)), [[`{region="eu"}`, TEAM_LINE.value]]);
      assert.deepEqual(await deployedTeamRules(String(outputs.exporter!.prometheusUrl)), EXPECTED_TEAM_RULES);
    });
  });

  describe("npm run smoke against the deployed stacks, both running", () => {
    for (const stack of ["graphite", "exporter"]) {
      it(`passes on the ${stack} stack: exact counts and every panel query`, async () => {
        const smoke = await project.run("npm", ["run", "smoke", "--", "--stack", stack], 300_000);
        assert.equal(smoke.code, 0, failureReport(smoke));
        assert.equal(smoke.stdout.trim().split("\n").at(-1), `smoke: ${stack} stack proven end to end`);
      });
    }
  });

  describe("Grafana (stand-in) as deployed", () => {
    it("takes the admin password the stack outputs, and refuses another", async () => {
      for (const stack of ["graphite", "exporter"]) {
        const url = String(outputs[stack]!.grafanaUrl);
        assert.equal(await grafanaLogin(url, String(outputs[stack]!.grafanaAdminPassword)), 200, stack);
        assert.equal(await grafanaLogin(url, "not-the-password"), 401, stack);
      }
    });

    it("reaches each stack's backend through its provisioned datasource, from inside the stack's network", async () => {
      const graphite = await fetch(`${outputs.graphite!.grafanaUrl}/api/datasources/proxy/uid/statsd-stack-graphite/metrics/find?query=stats_counts.*`);
      assert.equal(graphite.status, 200);
      assert.ok(((await graphite.json()) as Array<{ text: string }>).some((n) => n.text === "sample_api"));
      const query = encodeURIComponent(`sum(${catalog.requests.prometheusName})`);
      const prom = await fetch(`${outputs.exporter!.grafanaUrl}/api/datasources/proxy/uid/statsd-stack-prometheus/api/v1/query?query=${query}`);
      assert.equal(prom.status, 200);
      const body = (await prom.json()) as { data: { result: Array<{ value: [number, string] }> } };
      assert.ok(Number(body.data.result[0]!.value[1]) > 0, JSON.stringify(body));
    });

    it("the graphite stack's Grafana provisioned the three service alert rules, the series flood rule and the webhook policy, the URL only in its secret environment", async () => {
      const auth = { authorization: `Basic ${Buffer.from(`admin:${outputs.graphite!.grafanaAdminPassword}`).toString("base64")}` };
      const url = String(outputs.graphite!.grafanaUrl);
      const rules = (await (await fetch(`${url}/api/v1/provisioning/alert-rules`, { headers: auth })).json()) as Array<{ title: string; for: string; labels: Record<string, string> }>;
      assert.deepEqual(
        rules.map((r) => [r.title, r.for, r.labels.severity]),
        [
          ["AppHighServerErrorRatio", "5m", "critical"],
          ["AppHighLatencyP99", "10m", "warning"],
          ["AppNotReporting", "1m", "critical"],
          ["StatsdSeriesFlood", "10m", "warning"],
        ],
      );
      const policy = (await (await fetch(`${url}/api/v1/provisioning/policies`, { headers: auth })).json()) as { receiver: string; group_by: string[] };
      assert.deepEqual([policy.receiver, policy.group_by], ["statsd-stack-webhook", ["alertname", "app_name"]]);
      const files = await execIn("statsd-stack-graphite-grafana-0", "sh", "-c", "cat /etc/grafana/provisioning/alerting/*");
      assert.equal(files.includes(WEBHOOK_TOKEN), false, "a provisioning file holds the token");
      const state = (await project.must(["stack", "export", "--stack", "graphite"])).stdout;
      assert.equal(state.includes(WEBHOOK_TOKEN), false, "the token is in the exported state in plain text");
    });

    it("follows a changed admin password at the next pulumi up (Grafana keeps no database across restarts)", async () => {
      const before = String(outputs.graphite!.grafanaAdminPassword);
      await project.must(["config", "set", "--secret", "grafanaAdminPassword", "a-new-password-for-tests", "--stack", "graphite"]);
      await project.must(["up", "--yes", "--stack", "graphite"]);
      const url = String(outputs.graphite!.grafanaUrl);
      assert.equal(String((await project.outputs("graphite")).grafanaAdminPassword), "a-new-password-for-tests");
      assert.deepEqual([await grafanaLogin(url, "a-new-password-for-tests"), await grafanaLogin(url, before)], [200, 401]);
    });
  });

  describe("alerts on the exporter stack, to a webhook receiver on the stack's network", () => {
    let receiver: WebhookReceiver;
    let scenario: AlertScenario;
    const exporterContainer = "statsd-stack-exporter-statsd-exporter-0";

    before(async () => {
      receiver = await receiverContainer("statsd-stack-test-webhook-receiver", "statsd-stack-exporter-net", WEBHOOK_TOKEN);
      scenario = new AlertScenario({ apiUrl: String(outputs.exporter!.apiUrl), alertmanagerUrl: String(outputs.exporter!.alertmanagerUrl), receiverUrl: receiver.readUrl, prometheusUrl: String(outputs.exporter!.prometheusUrl) });
    });
    after(async () => {
      await scenario?.stop();
      // A stopped exporter is started again whatever failed, for the tests after these.
      await docker("start", exporterContainer).catch(() => undefined);
      await receiver?.remove();
    });

    it("outputs alertmanagerUrl on 127.0.0.1, and Alertmanager is ready there", async () => {
      assert.equal(outputs.exporter!.alertmanagerUrl, "http://127.0.0.1:9093");
      assert.equal((await fetch("http://127.0.0.1:9093/-/ready")).status, 200);
    });

    it("keeps the webhook URL's token out of plain state and out of alertmanager.yml: only the secret url_file has it", async () => {
      const state = (await project.must(["stack", "export", "--stack", "exporter"])).stdout;
      assert.equal(state.includes(WEBHOOK_TOKEN), false, "the token is in the exported state in plain text");
      const config = await execIn("statsd-stack-exporter-alertmanager-0", "cat", "/etc/alertmanager/alertmanager.yml");
      assert.equal(config.includes(WEBHOOK_TOKEN), false);
      assert.match(config, /url_file: \/etc\/alertmanager\/secrets\/webhook-url/);
      assert.equal(await execIn("statsd-stack-exporter-alertmanager-0", "cat", "/etc/alertmanager/secrets/webhook-url"), receiverWebhookUrl(WEBHOOK_TOKEN));
    });

    it("a failing load at the API fires AppHighServerErrorRatio, and the receiver gets the notification (time from the first 5xx printed)", async (t) => {
      const { notification, secondsFromFirstError } = await scenario.failingLoadFires();
      assert.ok(notification, "no firing notification within the bound");
      t.diagnostic(`Docker: first 5xx to the webhook's firing notification: ${secondsFromFirstError?.toFixed(1)} s`);
      assert.deepEqual([notification.tokenOk, notification.body.groupLabels.alertname], [true, "AppHighServerErrorRatio"]);
    });

    it("statsd_exporter stopped: StatsdExporterDown is notified, and AppHighServerErrorRatio is inhibited by it", async () => {
      const { notification, inhibited, inhibitor } = await scenario.exporterDownInhibits(async () => void (await docker("stop", exporterContainer)));
      assert.ok(notification, "no StatsdExporterDown notification within the bound");
      assert.ok(inhibited && inhibitor, "Alertmanager does not show AppHighServerErrorRatio inhibited");
      assert.deepEqual(inhibited.status.inhibitedBy, [inhibitor.fingerprint]);
    });

    it("statsd_exporter started again and a healthy load: the receiver gets both resolved notifications", async () => {
      const { service, pipeline, state } = await scenario.healthyLoadResolves(async () => void (await docker("start", exporterContainer)));
      const where =
        service && pipeline ? "" : `\n${state}\ncontainers: ${await docker("ps", "-a", "--filter", "name=statsd-stack-exporter-", "--format", "{{.Names}} {{.Status}}")}`;
      assert.ok(service && pipeline, `resolved: AppHighServerErrorRatio ${Boolean(service)}, StatsdExporterDown ${Boolean(pipeline)}${where}`);
    });
  });

  describe("updates", () => {
    it("a second pulumi up of each stack changes nothing", async () => {
      for (const stack of ["graphite", "exporter"]) {
        const again = await project.pulumi(["up", "--yes", "--expect-no-changes", "--stack", stack]);
        assert.equal(again.code, 0, `${stack} ${failureReport(again)}`);
      }
    });

    it("a new metricPrefix replaces exactly the app and the exporter (its mapping), and smoke passes with it", async () => {
      await project.must(["config", "set", "metricPrefix", "shop_api", "--stack", "exporter"]);
      assert.deepEqual(await project.plannedChanges("exporter"), {
        "docker:index/container:Container::pipeline-api-container-0": "replace",
        "docker:index/container:Container::pipeline-exporter-container-0": "replace",
      });
      await project.must(["up", "--yes", "--stack", "exporter"]);
      const smoke = await project.run("npm", ["run", "smoke", "--", "--stack", "exporter"], 300_000);
      assert.equal(smoke.code, 0, failureReport(smoke));
    });

    it("appReplicas 2 adds one app container on the next host port and keeps the first", async () => {
      const firstId = await containerId("statsd-stack-graphite-sample-api-0");
      await project.must(["config", "set", "appReplicas", "2", "--stack", "graphite"]);
      assert.deepEqual(await project.plannedChanges("graphite"), { "docker:index/container:Container::pipeline-api-container-1": "create" });
      await project.must(["up", "--yes", "--stack", "graphite"]);
      const apps = (await containers(prefixOf("graphite"))).filter((c) => c.name.includes("sample-api"));
      assert.deepEqual(apps.map((c) => [c.name, c.published, `${c.status} ${c.health}`]), [
        ["statsd-stack-graphite-sample-api-0", ["127.0.0.1:8000->8000/tcp"], "running healthy"],
        ["statsd-stack-graphite-sample-api-1", ["127.0.0.1:8001->8000/tcp"], "running healthy"],
      ]);
      assert.equal(await containerId("statsd-stack-graphite-sample-api-0"), firstId);
      assert.equal((await fetch("http://127.0.0.1:8001/healthz")).status, 200);
    });
  });

  /** Each backend's stored series, read before the disruptions below and after each: the known probe and the series. */
  const readers: Record<string, StoredSeriesReader> = {};
  const stored: Record<string, StoredFigures> = {};
  const BACKEND_CONTAINER = { graphite: "statsd-stack-graphite-graphite-0", exporter: "statsd-stack-exporter-prometheus-0" } as const;
  /** What each stack's backend lost since `stored`, one line per loss; empty when nothing was. */
  const lost = (stacks: ReadonlyArray<keyof typeof BACKEND_CONTAINER>) => lostAcross(stacks, stored, readers);
  /** Every container of both stacks running and healthy (those with a health check), as `docker ps` shows them. */
  const allHealthy = async () =>
    [...(await containers(prefixOf("graphite"))), ...(await containers(prefixOf("exporter")))].every((c) => c.status === "running" && (c.health ?? "healthy") === "healthy");
  /**
   * Restarts the Docker daemon docker-up.sh started and waits until every container of both stacks runs again,
   * healthy; false (the test skipped, or failed under CI) when no such daemon is known.
   */
  const restartDockerd = async (t: TestContext): Promise<boolean> => {
    if (recordedPid(DOCKERD) === undefined) {
      const why = `no dockerd started by docker-up.sh (${DOCKERD.pidFile}): restart your Docker daemon by hand to try this`;
      if (process.env.CI === "true") assert.fail(why);
      t.skip(why);
      return false;
    }
    await restartDaemon(DOCKERD);
    assert.ok(await waitFor(async () => (await docker("version", "--format", "{{.Server.Version}}")).trim() !== "", 60_000, 500), "dockerd did not answer within 60 s");
    assert.ok(await waitFor(allHealthy, 180_000, 2000), `not every container was healthy within 180 s:\n${(await containers("statsd-stack-")).map(healthy).join("\n")}`);
    return true;
  };

  describe("stored series (named volumes)", () => {
    before(async () => {
      for (const stack of ["graphite", "exporter"] as const) {
        const statsdPort = Number(String(outputs[stack]!.statsdEndpoint).split(":").at(-1));
        readers[stack] =
          stack === "exporter"
            ? prometheusStoredSeries(String(outputs.exporter!.prometheusUrl), statsdPort)
            : graphiteStoredSeries(() => String(outputs.graphite!.graphiteUrl), statsdPort, () => execIn(BACKEND_CONTAINER.graphite, ...LIST_WHISPER_FILES));
        await readers[stack]!.sendProbe();
        stored[stack] = await readers[stack]!.read();
      }
    });

    it(`each backend answers the probe's ${PROBE_TOTAL} over the window it was sent in, and holds its series`, () => {
      assert.deepEqual([stored.graphite!.probeTotal, stored.exporter!.probeTotal], [PROBE_TOTAL, PROBE_TOTAL]);
      assert.ok(typeof stored.exporter!.series === "number" && stored.exporter!.series > 0, String(stored.exporter!.series));
      assert.ok((stored.graphite!.series as string[]).some((f) => f.endsWith("/stats_counts/storage_probe.wsp")), String(stored.graphite!.series));
    });

    it("a config change that replaces Prometheus's and graphite-statsd's containers loses no stored series: the volumes outlive them", async () => {
      const ids = { graphite: await containerId(BACKEND_CONTAINER.graphite), exporter: await containerId(BACKEND_CONTAINER.exporter) };
      await project.must(["config", "set", "prometheusRetentionTime", "8d", "--stack", "exporter"]);
      await project.must(["config", "set", "graphiteOwnMetricsExpiry", "25h", "--stack", "graphite"]);
      assert.deepEqual(
        { ...(await project.plannedChanges("exporter")), ...(await project.plannedChanges("graphite")) },
        { "docker:index/container:Container::pipeline-prometheus-container-0": "replace", "docker:index/container:Container::pipeline-graphite-container-0": "replace" },
      );
      await Promise.all(["graphite", "exporter"].map((stack) => project.must(["up", "--yes", "--stack", stack])));
      assert.notEqual(await containerId(BACKEND_CONTAINER.graphite), ids.graphite);
      assert.notEqual(await containerId(BACKEND_CONTAINER.exporter), ids.exporter);
      assert.deepEqual(await lost(["graphite", "exporter"]), []);
    });

    it("Prometheus OOM-killed (the kernel, past its 512 MiB limit) is restarted by Docker and loses no stored series", async () => {
      const container = BACKEND_CONTAINER.exporter;
      const since = Math.floor(Date.now() / 1000) - 1;
      await oomKill(container, "65534:65534", PROMETHEUS_MEMORY_LIMIT_BYTES);
      const back = await waitFor(async () => (await containers(container)).some((c) => c.status === "running" && c.health === "healthy"), 180_000, 1000);
      assert.deepEqual([await oomKilledSince(container, since), await restartCount(container), back], [true, 1, true]);
      assert.deepEqual(await lost(["exporter"]), []);
    });

    it("a Docker daemon restart brings every container of both stacks back by its restart policy, healthy, with no stored series lost", async (t) => {
      if (!(await restartDockerd(t))) return;
      assert.deepEqual(await lost(["graphite", "exporter"]), []);
    });
  });

  describe(`a service restarted under load (GET / at ${FAULT_RATE} requests/s for ${FAULT_SECONDS} s, docker restart a third of the way in)`, () => {
    const runner = (stack: "graphite" | "exporter") =>
      new FaultRunner({
        outputs: Object.fromEntries(Object.entries(outputs[stack]!).map(([k, v]) => [k, String(v)])),
        containerPrefix: prefixOf(stack),
        rate: FAULT_RATE,
        seconds: FAULT_SECONDS,
      });
    /** Each stack's previous case: its load is among the counts stored before the next. */
    const earlier: Partial<Record<"graphite" | "exporter", FaultCaseResult>> = {};
    /** What the tests compare: answers, losses within the bound, and the counts stored before the case. */
    const summary = (r: FaultCaseResult, bound: number) => ({
      answered: r.ok,
      countedNoMoreThanAnswered: r.counted <= r.ok,
      lostWithinBound: r.ok - r.counted <= bound,
      history: r.historyAfter,
    });
    const report = (t: TestContext, r: FaultCaseResult, bound: number) =>
      t.diagnostic(`${r.service}: sent ${r.sent}, answered ${r.ok}, counted ${r.counted}, lost ${r.ok - r.counted} (bound ${bound}), healthy again after ${r.downSeconds.toFixed(1)} s, history ${r.historyBefore} -> ${r.historyAfter}`);

    it("statsd_exporter: every request answered; lost at most what was sent from its last scrape (5 s before the restart) until it was healthy again; stored counts unchanged", async (t) => {
      const r = (earlier.exporter = await runner("exporter").runCase("statsd-exporter"));
      const bound = lossBound(r, "exporter");
      report(t, r, bound);
      assert.deepEqual(summary(r, bound), { answered: r.sent, countedNoMoreThanAnswered: true, lostWithinBound: true, history: r.historyBefore });
    });

    it("Prometheus: every request answered and counted (statsd_exporter kept counting; the next scrape caught up); stored counts unchanged", async (t) => {
      const r = await runner("exporter").runCase("prometheus");
      report(t, r, 0);
      // The stored counts include the previous case's load: they are there to lose.
      assert.ok(r.historyBefore >= earlier.exporter!.counted && earlier.exporter!.counted > 0, `stored before: ${r.historyBefore}`);
      assert.deepEqual([r.ok, r.counted, r.historyAfter], [r.sent, r.sent, r.historyBefore]);
    });

    it("graphite, nothing restarted (the control): every request answered and counted", async (t) => {
      const r = (earlier.graphite = await runner("graphite").runCase("none"));
      report(t, r, 0);
      assert.deepEqual([r.ok, r.counted], [r.sent, r.sent]);
    });

    it("graphite-statsd: every request answered; lost at most what was sent from statsd's last flush (10 s before the restart) until it was healthy again; stored counts unchanged", async (t) => {
      const r = await runner("graphite").runCase("graphite");
      const bound = lossBound(r, "graphite");
      report(t, r, bound);
      assert.ok(r.historyBefore >= earlier.graphite!.counted && earlier.graphite!.counted > 0, `stored before: ${r.historyBefore}`);
      assert.deepEqual(summary(r, bound), { answered: r.sent, countedNoMoreThanAnswered: true, lostWithinBound: true, history: r.historyBefore });
    });
  });

  describe("bad configuration, set with pulumi config set", () => {
    const cases: Array<[what: string, settings: Array<[string, string]>, message: string]> = [
      [
        "a value of the wrong type (checked by the engine, first bad key only)",
        [["apiPort", "xyz"]],
        "Stack 'badconfig' with configuration key 'apiPort' must be of type 'integer'",
      ],
      [
        "an unknown platform and a port out of range (checked by the program, all at once)",
        [["platform", "swarm"], ["grafanaPort", "70000"]],
        "invalid stack configuration (2 problems):\n" +
          '  - statsd-stack:platform = "swarm" is not valid: expected one of docker, kubernetes\n' +
          '  - statsd-stack:grafanaPort = "70000" is not valid: expected an integer from 1 to 65535',
      ],
      [
        "an admin password in plain text",
        [["grafanaAdminPassword", "correct-horse-battery"]],
        "statsd-stack:grafanaAdminPassword is stored in plain text: set it with `pulumi config set --secret grafanaAdminPassword <password>` (the value is not shown)",
      ],
      [
        "a metric prefix with a dot",
        [["metricPrefix", "a.b"]],
        'statsd-stack:metricPrefix = "a.b" is not valid: expected letters, digits and _ (not starting with a digit), e.g. sample_api',
      ],
    ];

    before(async () => {
      await project.must(["stack", "init", "badconfig"]);
      await project.must(["config", "set", "topology", "graphite", "--stack", "badconfig"]);
    });

    for (const [what, settings, message] of cases) {
      it(`${what}: pulumi up fails with the message and leaves no resource`, async () => {
        for (const [key, value] of settings) await project.must(["config", "set", key, value, "--stack", "badconfig"]);
        const result = await project.pulumi(["up", "--yes", "--stack", "badconfig"]);
        for (const [key] of settings) await project.must(["config", "rm", key, "--stack", "badconfig"]);
        assert.notEqual(result.code, 0);
        // The CLI indents a message's lines under its diagnostics heading: compare line by line, trimmed.
        const lines = (text: string) => text.split("\n").map((l) => l.trim()).join("\n");
        assert.ok(lines(`${result.stdout}\n${result.stderr}`).includes(lines(message)), `${result.stdout}\n${result.stderr}`);
        assert.ok(!/\n\s+at .+\(.+:\d+:\d+\)/.test(result.stdout + result.stderr), "a stack trace was printed");
        const kept = (await project.stateResources("badconfig")).filter((r) => !r.startsWith("pulumi:pulumi:Stack::"));
        assert.deepEqual(kept, []);
        assert.deepEqual(await containers(prefixOf("badconfig")), []);
      });
    }
  });

  describe("the exporter stack in sidecar mode (exporterMode sidecar, appReplicas 3)", () => {
    const REPLICAS = [0, 1, 2];
    /** Each replica's API on this machine: replica n on apiPort + n (Pulumi.exporter.yaml: 8100). */
    const replicaUrls = (count: number) => REPLICAS.slice(0, count).map((n) => `http://127.0.0.1:${8100 + n}`);
    let reader: ScaleOutReader;
    let sidecarUp: CliResult;

    before(async () => {
      // On Docker the published ports move from the central exporter's container to the replicas' sidecars: a
      // deployed stack switches on a destroyed one (README, Scale-out).
      await project.must(["destroy", "--yes", "--stack", "exporter"]);
      await project.must(["config", "set", "exporterMode", "sidecar", "--stack", "exporter"]);
      await project.must(["config", "set", "appReplicas", "3", "--stack", "exporter"]);
      sidecarUp = await project.pulumi(["up", "--yes", "--stack", "exporter"]);
      if (sidecarUp.code === 0) outputs.exporter = await project.outputs("exporter");
      reader = new ScaleOutReader(String(outputs.exporter!.prometheusUrl), String(outputs.exporter!.appName));
    });

    it("pulumi up runs a statsd_exporter container beside each of the 3 app containers, all healthy, and a holder of each replica's network that publishes its ports", async () => {
      assert.equal(sidecarUp.code, 0, failureReport(sidecarUp));
      const running = (await containers(prefixOf("exporter"))).filter((c) => c.name.includes("sample-api") || c.name.includes("statsd-exporter"));
      assert.deepEqual(
        running.map((c) => [c.name, c.published.sort(), `${c.status} ${c.health ?? "(no health check)"}`]).sort(),
        REPLICAS.flatMap((n) => [
          [`statsd-stack-exporter-sample-api-${n}`, [], "running healthy"],
          [
            `statsd-stack-exporter-sample-api-netns-${n}`,
            [`127.0.0.1:${8100 + n}->8000/tcp`, `127.0.0.1:${9102 + n}->9102/tcp`, `127.0.0.1:${9125 + n}->9125/udp`],
            "running (no health check)",
          ],
          [`statsd-stack-exporter-sample-api-statsd-exporter-${n}`, [], "running healthy"],
        ]).sort(),
      );
    });

    it("Prometheus scrapes the 3 sidecars it found by DNS, each up", async () => {
      let targets: string[] = [];
      await waitFor(async () => (targets = await reader.exporterTargets()).filter((t) => t.endsWith(" up")).length === 3, 60_000, 1000);
      assert.deepEqual(targets.map((t) => t.replace(/^[\d.]+:/, "<address>:")), ["<address>:9102 up", "<address>:9102 up", "<address>:9102 up"]);
    });

    /** A load spread over the 3 replicas for `seconds`: every request answered, counted exactly, and by each replica's exporter. */
    async function assertCountedByEveryReplica(seconds: number): Promise<void> {
      const from = await reader.countFrom();
      const load = new SteadyLoad(replicaUrls(3), 2);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const summaries = await load.stop();
      assert.deepEqual(
        summaries.map((s) => s.failures),
        summaries.map(() => 0),
        describeLoad(summaries),
      );
      const { problems, description } = await reader.mismatchesSince(from, summaries);
      assert.deepEqual(problems, [], description);
      assert.equal(Object.keys(await reader.countedByInstance(from)).length, 3);
    }

    it("a known load spread over the 3 replicas is answered and counted exactly, summed over their exporters, each of which counted its replica's share", async () => {
      await assertCountedByEveryReplica(15);
    });

    it("a sidecar exporter OOM-killed (past its 128 MiB limit) is restarted by Docker in its replica's network: every replica answers, and a load after it is counted exactly", async () => {
      const sidecar = "statsd-stack-exporter-sample-api-statsd-exporter-1";
      const since = Math.floor(Date.now() / 1000) - 1;
      await oomKill(sidecar, "65534:65534", EXPORTER_MEMORY_LIMIT_BYTES);
      const back = await waitFor(async () => (await containers(sidecar)).some((c) => c.status === "running" && c.health === "healthy"), 120_000, 1000);
      assert.deepEqual([await oomKilledSince(sidecar, since), await restartCount(sidecar), back], [true, 1, true]);
      // Its replica's target up again (scraped every 5 s) before the load starts.
      assert.ok(await reader.targetsUp(3), `exporter targets: ${(await reader.exporterTargets()).join(", ")}`);
      await assertCountedByEveryReplica(10);
    });

    it("every app replica replaced under load (pulumi up --replace, as a new app image does): every request answered is counted", async () => {
      const from = await reader.countFrom();
      const load = new SteadyLoad(replicaUrls(3), 2);
      const replace = (await project.urns("exporter", REPLICAS.map((n) => `pipeline-api-container-${n}`))).flatMap((urn) => ["--replace", urn]);
      const update = await project.pulumi(["up", "--yes", "--stack", "exporter", ...replace]);
      const summaries = await load.stop();
      assert.equal(update.code, 0, failureReport(update));
      assert.match(update.stdout, /3 replaced/);
      const { problems, description } = await reader.mismatchesSince(from, summaries);
      assert.deepEqual(problems, [], description);
    });

    it("appReplicas 3 -> 1 -> 3 under load: every request answered is counted, the stopped replicas' last ones included", async () => {
      const from = await reader.countFrom();
      const load = new SteadyLoad(replicaUrls(3), 2);
      await new Promise((r) => setTimeout(r, 5000));
      await project.must(["config", "set", "appReplicas", "1", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      const down = (await containers(prefixOf("exporter"))).filter((c) => c.name.includes("sample-api")).map((c) => c.name);
      await project.must(["config", "set", "appReplicas", "3", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      await new Promise((r) => setTimeout(r, 5000));
      const summaries = await load.stop();
      assert.deepEqual(down.sort(), [
        "statsd-stack-exporter-sample-api-0",
        "statsd-stack-exporter-sample-api-netns-0",
        "statsd-stack-exporter-sample-api-statsd-exporter-0",
      ]);
      const { problems, description } = await reader.mismatchesSince(from, summaries);
      assert.deepEqual(problems, [], description);
    });
  });

  describe("pulumi destroy", () => {
    it("with dataOnDestroy retain, destroy leaves the graphite stack's data volume and nothing else", async () => {
      await project.must(["destroy", "--yes", "--stack", "graphite"]);
      assert.deepEqual(
        { containers: (await containers(prefixOf("graphite"))).map((c) => c.name), networks: await networks(prefixOf("graphite")), volumes: await volumes(prefixOf("graphite")) },
        { containers: [], networks: [], volumes: [RETAINED_VOLUME] },
      );
    });

    it("the next pulumi up takes the kept volume up again: graphite-web answers every stored series", async () => {
      await project.must(["up", "--yes", "--stack", "graphite"]);
      assert.deepEqual(await lost(["graphite"]), []);
    });

    it("destroyed again and the kept volume removed by hand as README says, nothing of the graphite stack is left", async () => {
      await project.must(["destroy", "--yes", "--stack", "graphite"]);
      await docker("volume", "rm", RETAINED_VOLUME);
      assert.deepEqual(
        {
          containers: (await containers(prefixOf("graphite"))).map((c) => c.name),
          networks: await networks(prefixOf("graphite")),
          volumes: await volumes(prefixOf("graphite")),
          images: await images("statsd-stack-graphite/"),
        },
        { containers: [], networks: [], volumes: [], images: [] },
      );
    });

    for (const stack of ["exporter"]) {
      it(`removes every container, network, volume and built image of the ${stack} stack`, async () => {
        await project.must(["destroy", "--yes", "--stack", stack]);
        assert.deepEqual(
          {
            containers: (await containers(prefixOf(stack))).map((c) => c.name),
            networks: await networks(prefixOf(stack)),
            volumes: await volumes(prefixOf(stack)),
            images: await images(`statsd-stack-${stack}/`),
          },
          { containers: [], networks: [], volumes: [], images: [] },
        );
      });
    }

    it("nothing was pulled from a registry during the whole tier: the local images were used", async () => {
      assert.deepEqual(await imagePulls(started, Math.ceil(Date.now() / 1000)), []);
    });
  });

  describe(`a graphite stack deployed by the release before the rename (${RELEASE_BEFORE_RENAME}), upgraded to this tree`, { skip: release.skip }, () => {
    let upgrade: ReleaseUpgrade;
    const marker = `written at ${new Date().toISOString()}`;

    before(async () => {
      const configure = async (project: PulumiProject) => {
        await project.must(["stack", "init", "graphite"]);
        await project.must(["config", "set", "grafanaImage", GRAFANA_STANDIN, "--stack", "graphite"]);
      };
      upgrade = await deployReleaseThenSwitch(tier, release.dir, "graphite", configure, async () => {
        await execIn("statsd-stack-graphite-graphite-0", "sh", "-c", `printf %s "$1" > ${MARKER}`, "sh", marker);
      });
    });
    after(() => upgrade?.remove());

    it("previews no delete: every resource of the release, component or container, maps to its new name (printed: what else changes)", (t) => {
      t.diagnostic(`planned: ${JSON.stringify(upgrade.planned)}`);
      assert.deepEqual(upgrade.deleted, []);
    });

    it("previews nothing at all for the network, the data volume and the generated password, and creates only the new platform component and the generated graphite-web password and secret keys", () => {
      const untouched = ["docker:index/network:Network::platform-network", "docker:index/volume:Volume::pipeline-graphite-data-0", "random:index/randomPassword:RandomPassword::pipeline-grafana-admin-password"];
      assert.deepEqual(untouched.map((r) => upgrade.planned[r] ?? "same"), ["same", "same", "same"]);
      assert.deepEqual(upgrade.created.sort(), [
        "random:index/randomPassword:RandomPassword::pipeline-grafana-secret-key",
        "random:index/randomPassword:RandomPassword::pipeline-graphite-admin-password",
        "random:index/randomPassword:RandomPassword::pipeline-graphite-secret-key",
        "statsd-stack:index:DockerPlatform::platform",
      ]);
    });

    it("pulumi up moves the stack to the new names, keeps the data volume, and a second up changes nothing", async () => {
      const old = upgrade.project;
      await old.must(["up", "--yes", "--stack", "graphite"]);
      const state = await old.stateResources("graphite");
      assert.deepEqual(
        state.filter((r) => /Container|Volume|Network/.test(r)).sort(),
        [
          "docker:index/container:Container::pipeline-api-container-0",
          "docker:index/container:Container::pipeline-grafana-container-0",
          "docker:index/container:Container::pipeline-graphite-container-0",
          "docker:index/network:Network::platform-network",
          "docker:index/volume:Volume::pipeline-graphite-data-0",
        ],
      );
      assert.equal(await execIn("statsd-stack-graphite-graphite-0", "cat", MARKER), marker);
      const again = await old.pulumi(["up", "--yes", "--expect-no-changes", "--stack", "graphite"]);
      assert.equal(again.code, 0, failureReport(again));
    });

    it("the release's root/root, kept in graphite-web's database on the data volume, is refused after the upgrade", async () => {
      const upgraded = await upgrade.project.outputs("graphite");
      await assertOnlyStackAdminPassword(String(upgraded.graphiteUrl), String(upgraded.graphiteAdminPassword));
    });
  });
});
