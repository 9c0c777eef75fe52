/**
 * The deployment tier on Kubernetes: the real Pulumi CLI runs the program as a user does against a real
 * single-node Kubernetes v1.34 (../shared/tools/runtime/k8s-up.sh: real pods on containerd, Services through
 * kube-proxy, CoreDNS), both stacks in one cluster, with `platform: kubernetes` and the cluster's context. The
 * images are the Docker tier's local builds, imported into the cluster's containerd; the app image is built by the
 * program and copied in by `imageLoadCommand` (the runtime's import-image.sh, where kind would use `kind load`).
 * Grafana is the stand-in (statsd-stack-test/grafana-standin). URLs are the NodePorts on 127.0.0.1.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { catalog } from "../../app/src/metrics/catalog";
import { runLoad } from "../../app/src/tools/load";
import { waitFor } from "../../app/src/tools/wait";
import { PrometheusApi } from "../../scripts/checks/backends";
import { failureReport, mustRun } from "../../scripts/local/processes";
import { containerState, currentContext, kubectl, kubectlJson, oomKillInPod, pods, processIdentity, replicaSets, runtimeTools, waitForOldPods, type PodState } from "../support/cluster";
import { deployReleaseThenSwitch, deploymentTier, GRAFANA_STANDIN, grafanaLogin, releaseTree, RELEASE_BEFORE_RENAME, TIER_IMAGES, type ReleaseUpgrade, type Tier } from "../support/deployment";
import type { CliResult, PulumiProject } from "../support/pulumi-cli";
import { sendStatsd } from "../support/udp";
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
import { assertOnlyStackAdminPassword, EXPECTED_GRAPHITE_WEB_ANSWERS, graphiteWebAnswers, PRINT_GRAPHITE_SECRET_KEY } from "../support/graphite-admin";
import { AlertScenario, SCENARIO_CONFIG } from "../support/alert-scenario";
import { RECEIVER_IMAGE, receiverPod, receiverWebhookUrl, type WebhookReceiver } from "../support/webhook-beside-stack";
import { containerPort, INTERNAL_PORTS } from "../../pipeline/ports";
import { randomBytes } from "node:crypto";
import { KUBE_ROUTER, KUBELET, LOCAL_PATH_PROVISIONER, recordedPid, restartDaemon } from "../support/daemons";
import { portsFromHere, portsFromPod } from "../support/network-probe";
import { ScaleOutReader, SteadyLoad } from "../support/scale-out";
import { EXPORTER_MEMORY_LIMIT_BYTES } from "../support/oom";
import { graphiteStoredSeries, LIST_WHISPER_FILES, lostAcross, lostSince, prometheusStoredSeries, PROBE_TOTAL, type StoredFigures, type StoredSeriesReader } from "../support/stored-series";

const tier: Tier = deploymentTier("kubernetes");
const release = tier.skip ? { dir: "", skip: tier.skip } : releaseTree(RELEASE_BEFORE_RENAME);
const STACKS = ["graphite", "exporter"] as const;
const namespaceOf = (stack: string) => `statsd-stack-${stack}`;
/** The token in the exporter stack's webhook URL: a secret the tests look for in plain places. */
const WEBHOOK_TOKEN = randomBytes(12).toString("hex");

/**
 * What kind has and the runtime's cluster lacks, run beside it by test/cluster's scripts (`up`, `down`): a default
 * StorageClass (kind's is `standard` too) and NetworkPolicy enforcement.
 */
const ADDONS = [
  { script: path.join(__dirname, "..", "cluster", "local-path-storage.sh"), daemon: LOCAL_PATH_PROVISIONER },
  { script: path.join(__dirname, "..", "cluster", "network-policy.sh"), daemon: KUBE_ROUTER },
];
/** The stack whose stored series `pulumi destroy` keeps (config dataOnDestroy). */
const RETAINING_STACK = "graphite";

/** The default StorageClass's name and provisioner, if the cluster has one. */
async function defaultStorageClass(): Promise<string | undefined> {
  const list = await kubectlJson<{ items: Array<{ metadata: { name: string; annotations?: Record<string, string> }; provisioner: string }> }>("get", "storageclasses");
  const found = list.items.find((c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
  return found && `${found.metadata.name} ${found.provisioner}`;
}

/** The images pods run (the app's is loaded by the program itself; node's runs the alert tests' webhook receiver). */
const CLUSTER_IMAGES = TIER_IMAGES;

async function importImages(runtime: string): Promise<void> {
  await mustRun(path.join(runtime, "import-image.sh"), CLUSTER_IMAGES);
}

/** NodePort Services of a namespace as `service port/PROTOCOL`, and ClusterIP ones the same way. */
async function servicePorts(namespace: string): Promise<Record<string, string[]>> {
  const list = await kubectlJson<{ items: Array<{ metadata: { name: string }; spec: { type: string; ports: Array<{ port: number; protocol: string; nodePort?: number }> } }> }>(
    "get",
    "services",
    "-n",
    namespace,
  );
  const byType: Record<string, string[]> = {};
  for (const s of list.items) for (const p of s.spec.ports) (byType[s.spec.type] ??= []).push(`${s.metadata.name} ${p.port}/${p.protocol}`);
  for (const ports of Object.values(byType)) ports.sort();
  return byType;
}

/** A new stack with what this environment needs: the cluster's context, Grafana's stand-in, how a local image gets in. */
async function configure(project: PulumiProject, stack: string): Promise<void> {
  const runtime = runtimeTools()!;
  await project.must(["stack", "init", stack]);
  await project.must(["config", "set", "platform", "kubernetes", "--stack", stack]);
  await project.must(["config", "set", "kubeContext", await currentContext(), "--stack", stack]);
  await project.must(["config", "set", "grafanaImage", GRAFANA_STANDIN, "--stack", stack]);
  await project.must(["config", "set", "imageLoadCommand", `${path.join(runtime, "import-image.sh")} "$IMAGE"`, "--stack", stack]);
}

describe("deployment on Kubernetes by the real Pulumi CLI (Grafana is a stand-in)", { skip: tier.skip }, () => {
  let project: PulumiProject;
  let runtime: string;
  const up: Record<string, CliResult> = {};
  const outputs: Record<string, Record<string, unknown>> = {};
  /** The add-ons this test started, and stops. */
  const startedAddons: typeof ADDONS = [];

  before(async () => {
    runtime = runtimeTools()!;
    assert.ok(runtime, "the runtime scripts (import-image.sh) were not found");
    await importImages(runtime);
    // The program asks for the cluster's default StorageClass and relies on its NetworkPolicies, as on kind. The
    // runtime's cluster has neither of its own: the add-ons run beside it (started here unless they already run).
    if (recordedPid(KUBELET) !== undefined) {
      for (const addon of ADDONS) {
        if (recordedPid(addon.daemon) === undefined) startedAddons.push(addon);
        await mustRun(addon.script, ["up"]);
      }
    }
    assert.ok((await defaultStorageClass()) !== undefined, "the cluster has no default StorageClass: the backends' claims would never bind");
    project = tier.project("kubernetes");
    for (const stack of STACKS) await configure(project, stack);
    // The alert scenario's short timers, and notifications to the receiver the alert tests start in the namespace.
    for (const [key, value] of Object.entries(SCENARIO_CONFIG)) await project.must(["config", "set", key, value, "--stack", "exporter"]);
    await project.must(["config", "set", "--secret", "alertWebhookUrl", receiverWebhookUrl(WEBHOOK_TOKEN), "--stack", "exporter"]);
    // A team's own mapping and rule file (exporter) and carbon sections (graphite), set as README shows.
    for (const stack of STACKS) await configureTeamExtensions(project, stack);
    await project.must(["config", "set", "dataOnDestroy", "retain", "--stack", RETAINING_STACK]);
  });

  after(async () => {
    for (const stack of STACKS) await project?.pulumi(["destroy", "--yes", "--stack", stack]);
    // What dataOnDestroy retain kept, a failed test left behind or not.
    await kubectl("delete", "namespace", namespaceOf(RETAINING_STACK), "--ignore-not-found", "--wait=true").catch(() => undefined);
    project?.remove();
    for (const addon of startedAddons) await mustRun(addon.script, ["down"]);
  });

  describe("both stacks in one cluster", () => {
    // Side by side, as two teams would: the stacks share nothing but the cluster.
    before(async () => {
      await Promise.all(
        STACKS.map(async (stack) => {
          up[stack] = await project.pulumi(["up", "--yes", "--stack", stack]);
          if (up[stack].code === 0) outputs[stack] = await project.outputs(stack);
        }),
      );
    });

    for (const stack of STACKS) {
      it(`pulumi up of the ${stack} stack succeeds (every Deployment Available), and reports how long it took`, (t) => {
        assert.equal(up[stack]!.code, 0, failureReport(up[stack]!));
        t.diagnostic(`${stack} on Kubernetes: pulumi up from nothing to every Deployment Available in ${up[stack]!.seconds.toFixed(1)} s`);
      });
    }

    it("every pod is running and ready, its probes passing, with no restart", async () => {
      const state = async (stack: string) => (await pods(namespaceOf(stack))).map((p) => `${p.app} ${p.phase} ${p.ready ? "ready" : "not ready"} ${p.restarts}`);
      assert.deepEqual(await state("graphite"), ["grafana Running ready 0", "graphite Running ready 0", "sample-api Running ready 0"]);
      assert.deepEqual(await state("exporter"), [
        "alertmanager Running ready 0",
        "grafana Running ready 0",
        "prometheus Running ready 0",
        "sample-api Running ready 0",
        "statsd-exporter Running ready 0",
      ]);
    });

    it("every container runs as the program says: user, group and read-only root filesystem", async () => {
      const identities: Record<string, string> = {};
      for (const stack of STACKS) {
        for (const pod of await pods(namespaceOf(stack))) {
          const id = await processIdentity(namespaceOf(stack), pod.name);
          identities[`${stack} ${pod.app}`] = `${id.uid}:${id.gid} ${id.readOnlyRoot ? "read-only" : "writable"}`;
        }
      }
      assert.deepEqual(identities, {
        "graphite grafana": "472:0 read-only",
        "graphite graphite": "0:0 writable",
        "graphite sample-api": "1000:1000 read-only",
        "exporter alertmanager": "65534:65534 read-only",
        "exporter grafana": "472:0 read-only",
        "exporter prometheus": "65534:65534 read-only",
        "exporter sample-api": "1000:1000 read-only",
        "exporter statsd-exporter": "65534:65534 read-only",
      });
    });

    it("no container logs a permission error", async () => {
      const found: string[] = [];
      for (const stack of STACKS) {
        for (const pod of await pods(namespaceOf(stack))) {
          const logs = await kubectl("logs", "-n", namespaceOf(stack), pod.name);
          for (const line of logs.split("\n")) if (/permission denied|read-only file system|EACCES|EROFS/i.test(line)) found.push(`${stack} ${pod.app}: ${line}`);
        }
      }
      assert.deepEqual(found, []);
    });

    it("makes only the published ports NodePorts; carbon and statsd's admin port stay inside the cluster", async () => {
      assert.deepEqual(await servicePorts(namespaceOf("graphite")), {
        ClusterIP: ["grafana 3000/TCP", "graphite 2003/TCP", "graphite 80/TCP", "graphite 8125/UDP", "graphite 8126/TCP", "sample-api 8000/TCP"],
        NodePort: ["grafana-nodeport 3000/TCP", "graphite-nodeport 80/TCP", "graphite-nodeport 8125/UDP", "sample-api-nodeport 8000/TCP"],
      });
      assert.deepEqual(await servicePorts(namespaceOf("exporter")), {
        ClusterIP: ["alertmanager 9093/TCP", "grafana 3000/TCP", "prometheus 9090/TCP", "sample-api 8000/TCP", "statsd-exporter 9102/TCP", "statsd-exporter 9125/UDP"],
        NodePort: [
          "alertmanager-nodeport 9093/TCP",
          "grafana-nodeport 3000/TCP",
          "prometheus-nodeport 9090/TCP",
          "sample-api-nodeport 8000/TCP",
          "statsd-exporter-nodeport 9102/TCP",
          "statsd-exporter-nodeport 9125/UDP",
        ],
      });
    });

    it("each namespace denies ingress by default, and each workload's NetworkPolicy admits only its published ports", async () => {
      for (const stack of STACKS) {
        const list = await kubectlJson<{ items: Array<{ metadata: { name: string }; spec: any }> }>("get", "networkpolicy", "-n", namespaceOf(stack));
        const admitted = Object.fromEntries(
          list.items.map((np) => [np.metadata.name, (np.spec.ingress ?? []).flatMap((r: any) => r.ports.map((p: any) => `${p.port}/${p.protocol}`)).sort()]),
        );
        const nodePorts = ((await servicePorts(namespaceOf(stack))).NodePort ?? []).map((entry) => {
          const [service, port] = entry.split(" ");
          return [`${service!.replace(/-nodeport$/, "")}-ingress`, port!] as const;
        });
        const expected: Record<string, string[]> = { "default-deny-ingress": [] };
        for (const [policy, port] of nodePorts) (expected[policy] ??= []).push(port);
        for (const ports of Object.values(expected)) ports.sort();
        assert.deepEqual(admitted, expected, stack);
      }
    });

    it("the policies hold (enforced by kube-router): a pod of no flow reaches graphite-statsd's nginx only, not carbon, its cache, statsd's admin port or gunicorn, which all listen", async () => {
      assert.ok(recordedPid(KUBE_ROUTER) !== undefined, "no NetworkPolicy enforcement runs beside the cluster (test/cluster/network-policy.sh up)");
      const graphite = (await pods(namespaceOf("graphite"))).find((p) => p.app === "graphite")!;
      const ports = [containerPort("graphiteWeb"), INTERNAL_PORTS.carbonPlaintext, INTERNAL_PORTS.carbonPickle, INTERNAL_PORTS.carbonCacheQuery, INTERNAL_PORTS.statsdAdmin, INTERNAL_PORTS.graphiteWebGunicorn];
      // From the node, which policies leave alone (kubelet's probes come from there): every one listens.
      assert.deepEqual(await portsFromHere(graphite.ip, ports), { 80: "open", 2003: "open", 2004: "open", 7002: "open", 8126: "open", 8080: "open" });
      assert.deepEqual(await portsFromPod(namespaceOf("graphite"), "no-flow-probe", RECEIVER_IMAGE, graphite.ip, ports), {
        80: "open",
        2003: "closed",
        2004: "closed",
        7002: "closed",
        8126: "closed",
        8080: "closed",
      });
    });

    it("counts StatsD lines sent from this machine to each stack's StatsD NodePort", async () => {
      const port = (stack: string) => Number(String(outputs[stack]!.statsdEndpoint).split(":").at(-1));
      await sendStatsd(port("graphite"), "deploy_test.hits:3|c");
      await sendStatsd(port("exporter"), "deploy_test_hits:3|c|#team:payments");
      const prom = new PrometheusApi(String(outputs.exporter!.prometheusUrl));
      assert.ok(await graphiteShows(String(outputs.graphite!.graphiteUrl), "stats_counts.deploy_test.hits", 3), "graphite");
      assert.ok(await waitFor(async () => (await prom.query('deploy_test_hits{team="payments"}')).some((s) => s.value === 3), 60_000, 1000), "prometheus");
    });

    for (const stack of STACKS) {
      it(`npm run smoke passes on the ${stack} stack through its NodePorts: exact counts and every panel query`, async () => {
        const smoke = await project.run("npm", ["run", "smoke", "--", "--stack", stack], 300_000);
        assert.equal(smoke.code, 0, failureReport(smoke));
        assert.equal(smoke.stdout.trim().split("\n").at(-1), `smoke: ${stack} stack proven end to end`);
      });
    }

    it("graphite-web refuses root/root at /admin/ through its NodePort, and admits root with the stack's graphiteAdminPassword", async () => {
      await assertOnlyStackAdminPassword(String(outputs.graphite!.graphiteUrl), String(outputs.graphite!.graphiteAdminPassword));
    });

    it("graphite-web's NodePort (nginx) refuses every write endpoint and other methods, and serves the reads Grafana makes", async () => {
      assert.deepEqual(await graphiteWebAnswers(String(outputs.graphite!.graphiteUrl)), EXPECTED_GRAPHITE_WEB_ANSWERS);
    });

    it("graphite-web signs with the stack's generated SECRET_KEY, from the graphite Secret", async () => {
      const namespace = namespaceOf("graphite");
      const pod = (await pods(namespace)).find((p) => p.app === "graphite")!;
      const key = await project.stateOutput("graphite", "pipeline-graphite-secret-key", "result");
      assert.equal((await kubectl("exec", "-n", namespace, pod.name, "--", ...PRINT_GRAPHITE_SECRET_KEY)).trim(), key);
    });

    it("Grafana (stand-in) takes the admin password the stack outputs and reaches Prometheus through its datasource", async () => {
      const url = String(outputs.exporter!.grafanaUrl);
      assert.equal(await grafanaLogin(url, String(outputs.exporter!.grafanaAdminPassword)), 200);
      const query = encodeURIComponent(`sum(${catalog.requests.prometheusName})`);
      const res = await fetch(`${url}/api/datasources/proxy/uid/statsd-stack-prometheus/api/v1/query?query=${query}`);
      assert.equal(res.status, 200);
    });
  });

  describe("alerts on the exporter stack, to a webhook receiver pod in its namespace", () => {
    let receiver: WebhookReceiver;
    let scenario: AlertScenario;
    const exporterDeployment = async () =>
      (await kubectlJson<{ items: Array<{ metadata: { name: string } }> }>("get", "deployments", "-n", namespaceOf("exporter"), "-l", "app.kubernetes.io/name=statsd-exporter")).items[0]!.metadata.name;
    const scaleExporter = async (replicas: number) => {
      const name = await exporterDeployment();
      await kubectl("scale", "-n", namespaceOf("exporter"), `deployment/${name}`, `--replicas=${replicas}`);
      if (replicas > 0) await kubectl("rollout", "status", "-n", namespaceOf("exporter"), `deployment/${name}`, "--timeout=120s");
    };

    before(async () => {
      receiver = await receiverPod(namespaceOf("exporter"), WEBHOOK_TOKEN);
      scenario = new AlertScenario({ apiUrl: String(outputs.exporter!.apiUrl), alertmanagerUrl: String(outputs.exporter!.alertmanagerUrl), receiverUrl: receiver.readUrl, prometheusUrl: String(outputs.exporter!.prometheusUrl) });
    });
    after(async () => {
      await scenario?.stop();
      // A stopped exporter is brought back whatever failed, for the tests after these.
      await scaleExporter(1).catch(() => undefined);
      await receiver?.remove();
    });

    it("outputs alertmanagerUrl on a NodePort of 127.0.0.1, and Alertmanager is ready there", async () => {
      assert.match(String(outputs.exporter!.alertmanagerUrl), /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${outputs.exporter!.alertmanagerUrl}/-/ready`)).status, 200);
    });

    it("keeps the webhook URL's token in a Secret only: not in plain state, not in any ConfigMap", async () => {
      const state = (await project.must(["stack", "export", "--stack", "exporter"])).stdout;
      assert.equal(state.includes(WEBHOOK_TOKEN), false, "the token is in the exported state in plain text");
      const configMaps = await kubectl("get", "configmaps", "-n", namespaceOf("exporter"), "-o", "yaml");
      assert.equal(configMaps.includes(WEBHOOK_TOKEN), false, "a ConfigMap holds the token");
      const secrets = (await kubectlJson<{ items: Array<{ data?: Record<string, string> }> }>("get", "secrets", "-n", namespaceOf("exporter"))).items;
      const holding = secrets.filter((s) => Object.values(s.data ?? {}).some((v) => Buffer.from(v, "base64").toString().includes(WEBHOOK_TOKEN)));
      assert.equal(holding.length, 1);
    });

    it("a failing load at the API fires AppHighServerErrorRatio, and the receiver gets the notification (time from the first 5xx printed)", async (t) => {
      const { notification, secondsFromFirstError } = await scenario.failingLoadFires();
      assert.ok(notification, "no firing notification within the bound");
      t.diagnostic(`Kubernetes: first 5xx to the webhook's firing notification: ${secondsFromFirstError?.toFixed(1)} s`);
      assert.deepEqual([notification.tokenOk, notification.body.groupLabels.alertname], [true, "AppHighServerErrorRatio"]);
    });

    it("statsd_exporter scaled to 0: StatsdExporterDown is notified, and AppHighServerErrorRatio is inhibited by it", async () => {
      const { notification, inhibited, inhibitor } = await scenario.exporterDownInhibits(() => scaleExporter(0));
      assert.ok(notification, "no StatsdExporterDown notification within the bound");
      assert.ok(inhibited && inhibitor, "Alertmanager does not show AppHighServerErrorRatio inhibited");
      assert.deepEqual(inhibited.status.inhibitedBy, [inhibitor.fingerprint]);
    });

    it("statsd_exporter back and a healthy load: the receiver gets both resolved notifications", async () => {
      const { service, pipeline, state } = await scenario.healthyLoadResolves(() => scaleExporter(1));
      const where = service && pipeline ? "" : `\n${state}\npods: ${JSON.stringify(await pods(namespaceOf("exporter")))}`;
      assert.ok(service && pipeline, `resolved: AppHighServerErrorRatio ${Boolean(service)}, StatsdExporterDown ${Boolean(pipeline)}${where}`);
    });
  });

  describe("updates", () => {
    it("a second pulumi up of each stack changes nothing", async () => {
      for (const stack of STACKS) {
        const again = await project.pulumi(["up", "--yes", "--expect-no-changes", "--stack", stack]);
        assert.equal(again.code, 0, `${stack} ${failureReport(again)}`);
      }
    });

    it("statsd_exporter maps a team's line by config exporterMappings, and Prometheus loaded the team's rule group from prometheusRulesFile", async () => {
      const statsdPort = Number(String(outputs.exporter!.statsdEndpoint).split(":").at(-1));
      assert.deepEqual(await deployedTeamSeries(statsdPort, String(outputs.exporter!.exporterMetricsUrl)), [[`{region="eu"}`, TEAM_LINE.value]]);
      assert.deepEqual(await deployedTeamRules(String(outputs.exporter!.prometheusUrl)), EXPECTED_TEAM_RULES);
    });

    it("carbon creates a team's new series with the team's archives and rollup (config graphiteSchemas, graphiteAggregation)", async () => {
      const statsdPort = Number(String(outputs.graphite!.statsdEndpoint).split(":").at(-1));
      const pod = (await pods(namespaceOf("graphite"))).find((p) => p.app === "graphite")!;
      const info = await deployedTeamWhisperInfo(statsdPort, (...cmd) => kubectl("exec", "-n", namespaceOf("graphite"), pod.name, "--", ...cmd));
      assert.deepEqual(info, expectedTeamWhisperInfo());
    });

    it("runs the whisper prune service in the graphite pod: a team's file unwritten for 8 days is deleted, a fresh one and the catalog's kept", async () => {
      const pod = (await pods(namespaceOf("graphite"))).find((p) => p.app === "graphite")!;
      const { status, left } = await pruneDeployed((...cmd) => kubectl("exec", "-n", namespaceOf("graphite"), pod.name, "--", ...cmd));
      assert.match(status, PRUNE_SERVICE_RUNNING);
      assert.deepEqual(left, EXPECTED_AFTER_PRUNE);
    });

    it("statsd OOM-killed inside the graphite pod (the kernel, at the container's limit) is started again by runit in the same container, and counts a line sent after it", async () => {
      const namespace = namespaceOf("graphite");
      const pod = (await pods(namespace)).find((p) => p.app === "graphite")!;
      const killed = await oomKillStatsd((...cmd) => kubectl("exec", "-n", namespace, pod.name, "--", ...cmd));
      const podNow = (await pods(namespace)).find((p) => p.app === "graphite")!;
      // The kernel may kill graphite-web's gunicorn workers first: every process of the pod has its oom_score_adj
      // (990, Burstable), 10 points below statsd's 1000, and a worker holds more memory than statsd; gunicorn forks
      // them again. Hence at least one kill, and graphite-web answering the render below.
      assert.deepEqual(
        { statsdRestarted: killed.statsdRestarted, killed: killed.oomKills >= 1, samePod: podNow.uid === pod.uid, restarts: (await containerState(namespace, pod.name, "graphite")).restartCount },
        { statsdRestarted: true, killed: true, samePod: true, restarts: 0 },
        `the kernel's OOM kills: ${killed.oomKills}`,
      );
      await sendStatsd(Number(String(outputs.graphite!.statsdEndpoint).split(":").at(-1)), "deploy_test.after_oom:4|c");
      assert.ok(await graphiteShows(String(outputs.graphite!.graphiteUrl), "stats_counts.deploy_test.after_oom", 4), "stats_counts.deploy_test.after_oom never showed 4 within 60 s");
    });

    it("a new metricPrefix rolls exactly the app and the exporter (its mapping ConfigMap), and the smoke check passes under it", async () => {
      const before = await replicaSets(namespaceOf("exporter"));
      await project.must(["config", "set", "metricPrefix", "shop_api", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      const after = await replicaSets(namespaceOf("exporter"));
      const rolled = Object.keys(after).filter((app) => after[app]!.some((rs) => !before[app]?.includes(rs)));
      assert.deepEqual(rolled.sort(), ["sample-api", "statsd-exporter"]);
      // Until the old app pod is gone, a new connection can still reach it (it drains), and it sends the old prefix.
      await waitForOldPods(namespaceOf("exporter"));
      const smoke = await project.run("npm", ["run", "smoke", "--", "--stack", "exporter"], 300_000);
      assert.equal(smoke.code, 0, failureReport(smoke));
    });

    it("pulumi up returns only once the new pods of a rolled Deployment are ready and no old pod is left serving", async () => {
      const before = new Set((await pods(namespaceOf("exporter"))).map((p) => p.uid));
      await project.must(["config", "set", "metricPrefix", "checkout_api", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      // Checked the moment `pulumi up` returns: pods() leaves out the old ones already told to stop.
      const live = await pods(namespaceOf("exporter"));
      const isNew = (pod: PodState) => !before.has(pod.uid);
      assert.deepEqual(
        live.map((p) => `${p.app} ${p.ready ? "ready" : "not ready"} ${isNew(p) ? "new" : "old"}`),
        ["alertmanager ready old", "grafana ready old", "prometheus ready old", "sample-api ready new", "statsd-exporter ready new"],
      );
      await waitForOldPods(namespaceOf("exporter"));
    });

    it("a rolling update of the app under load loses no request", async () => {
      const before = await replicaSets(namespaceOf("graphite"));
      await project.must(["config", "set", "appName", "shop-api", "--stack", "graphite"]);
      let updating = true;
      const apiUrl = String(outputs.graphite!.apiUrl);
      // Load runs from before the update starts until after it ends.
      const load = (async () => {
        const summaries = [];
        while (updating) summaries.push(await runLoad({ url: apiUrl, durationSeconds: 5, vus: 4, pauseSeconds: 0 }));
        return summaries;
      })();
      const update = await project.pulumi(["up", "--yes", "--stack", "graphite"]);
      await new Promise((r) => setTimeout(r, 3000));
      updating = false;
      const summaries = await load;
      assert.equal(update.code, 0, failureReport(update));
      const after = await replicaSets(namespaceOf("graphite"));
      // Grafana rolls too: its alert rules watch the app by name.
      assert.deepEqual(Object.keys(after).filter((app) => after[app]!.some((rs) => !before[app]?.includes(rs))).sort(), ["grafana", "sample-api"]);
      const requests = summaries.reduce((n, s) => n + s.requests, 0);
      const failures = summaries.reduce((n, s) => n + s.failures, 0);
      const statuses = [...new Set(summaries.flatMap((s) => Object.keys(s.statuses)))].sort();
      assert.equal(failures, 0, `${failures} of ${requests} requests failed during the rolling update`);
      assert.deepEqual(statuses.filter((s) => !["200", "300", "400", "500"].includes(s)), []);
      assert.ok(requests > 50, `only ${requests} requests during the update`);
    });

    it("a changed Grafana admin password applies at the next pulumi up", async () => {
      await project.must(["config", "set", "--secret", "grafanaAdminPassword", "a-new-password-for-tests", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      await waitForOldPods(namespaceOf("exporter"));
      const url = String(outputs.exporter!.grafanaUrl);
      assert.deepEqual([await grafanaLogin(url, "a-new-password-for-tests"), await grafanaLogin(url, String(outputs.exporter!.grafanaAdminPassword))], [200, 401]);
    });
  });

  describe("stored series (storage persistent: a claim per backend, on the cluster's default StorageClass)", () => {
    const readers: Record<string, StoredSeriesReader> = {};
    const stored: Record<string, StoredFigures> = {};
    const backendOf = { graphite: "graphite", exporter: "prometheus" } as const;
    const podOf = async (stack: (typeof STACKS)[number]) => (await pods(namespaceOf(stack))).find((p) => p.app === backendOf[stack])!;
    /** What each stack's backend lost since `stored`, one line per loss; empty when nothing was. */
    const lost = () => lostAcross(STACKS, stored, readers);

    before(async () => {
      for (const stack of STACKS) {
        const statsdPort = Number(String(outputs[stack]!.statsdEndpoint).split(":").at(-1));
        readers[stack] =
          stack === "exporter"
            ? prometheusStoredSeries(String(outputs.exporter!.prometheusUrl), statsdPort)
            : graphiteStoredSeries(() => String(outputs.graphite!.graphiteUrl), statsdPort, async () =>
                kubectl("exec", "-n", namespaceOf("graphite"), (await podOf("graphite")).name, "--", ...LIST_WHISPER_FILES),
              );
        await readers[stack]!.sendProbe();
        stored[stack] = await readers[stack]!.read();
      }
    });

    it("Prometheus, Alertmanager and graphite-statsd each run as a StatefulSet of one pod on a bound ReadWriteOnce claim of the default class", async () => {
      const storageClass = (await defaultStorageClass())!.split(" ")[0];
      const claims: string[] = [];
      const strategies: string[] = [];
      for (const stack of STACKS) {
        const list = await kubectlJson<{ items: Array<{ metadata: { name: string }; spec: { storageClassName: string; accessModes: string[] }; status: { phase: string } }> }>(
          "get",
          "pvc",
          "-n",
          namespaceOf(stack),
        );
        for (const c of list.items) claims.push(`${stack} ${c.metadata.name} ${c.status.phase} ${c.spec.accessModes.join(",")} ${c.spec.storageClassName}`);
        const workloads = await kubectlJson<{ items: Array<{ kind: string; metadata: { labels: Record<string, string> } }> }>(
          "get",
          "deployments,statefulsets",
          "-n",
          namespaceOf(stack),
        );
        for (const w of workloads.items) strategies.push(`${stack} ${w.metadata.labels["app.kubernetes.io/name"]} ${w.kind}`);
      }
      assert.deepEqual(claims.sort(), [
        `exporter alertmanager-data Bound ReadWriteOnce ${storageClass}`,
        `exporter prometheus-data Bound ReadWriteOnce ${storageClass}`,
        `graphite graphite-data Bound ReadWriteOnce ${storageClass}`,
      ]);
      assert.deepEqual(strategies.sort(), [
        "exporter alertmanager StatefulSet",
        "exporter grafana Deployment",
        "exporter prometheus StatefulSet",
        "exporter sample-api Deployment",
        "exporter statsd-exporter Deployment",
        "graphite grafana Deployment",
        "graphite graphite StatefulSet",
        "graphite sample-api Deployment",
      ]);
    });

    it(`each backend answers the probe's ${PROBE_TOTAL} over the window it was sent in, and holds its series`, () => {
      assert.deepEqual(
        STACKS.map((s) => stored[s]!.probeTotal),
        [PROBE_TOTAL, PROBE_TOTAL],
      );
      assert.ok(typeof stored.exporter!.series === "number" && stored.exporter!.series > 0, String(stored.exporter!.series));
      assert.ok((stored.graphite!.series as string[]).some((f) => f.endsWith("/stats_counts/storage_probe.wsp")), String(stored.graphite!.series));
    });

    it("a config change that rolls Prometheus and graphite-statsd (new pods) loses no stored series", async () => {
      const before = { graphite: (await podOf("graphite")).uid, exporter: (await podOf("exporter")).uid };
      await project.must(["config", "set", "prometheusRetentionTime", "8d", "--stack", "exporter"]);
      await project.must(["config", "set", "graphiteOwnMetricsExpiry", "25h", "--stack", "graphite"]);
      await Promise.all(STACKS.map((stack) => project.must(["up", "--yes", "--stack", stack])));
      for (const stack of STACKS) await waitForOldPods(namespaceOf(stack));
      const after = { graphite: (await podOf("graphite")).uid, exporter: (await podOf("exporter")).uid };
      assert.ok(after.graphite !== before.graphite && after.exporter !== before.exporter, `pods before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
      assert.deepEqual(await lost(), []);
    });

    it("Prometheus's and graphite-statsd's pods deleted by hand come back, never two at once on a volume, with no stored series lost", async () => {
      const deleted = { graphite: (await podOf("graphite")).uid, exporter: (await podOf("exporter")).uid };
      // While a deleted pod terminates (up to its grace period), no second pod of its workload may exist.
      let most = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const stack of STACKS) {
            const list = await kubectlJson<{ items: unknown[] }>("get", "pods", "-n", namespaceOf(stack), "-l", `app.kubernetes.io/name=${backendOf[stack]}`);
            most = Math.max(most, list.items.length);
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      try {
        await Promise.all(STACKS.map((stack) => kubectl("delete", "pod", "-n", namespaceOf(stack), "-l", `app.kubernetes.io/name=${backendOf[stack]}`, "--wait=true")));
        const replaced = async () =>
          (await Promise.all(STACKS.map(async (s) => { const p = await podOf(s); return p !== undefined && p.ready && p.uid !== deleted[s]; }))).every(Boolean);
        assert.ok(await waitFor(replaced, 180_000, 1000), "the backends' new pods were not ready within 180 s");
      } finally {
        watching = false;
        await watch;
      }
      assert.equal(most, 1, "a second pod of a backend existed while the deleted one terminated");
      assert.deepEqual(await lost(), []);
    });

    it("a restart of the node's kubelet leaves every pod running with no container restarted, and no stored series lost", async (t) => {
      if (recordedPid(KUBELET) === undefined) {
        const why = `no kubelet started by k8s-up.sh (${KUBELET.pidFile}): a kind node's kubelet is restarted inside its container`;
        if (process.env.CI === "true") assert.fail(why);
        t.skip(why);
        return;
      }
      const podsBefore = (await Promise.all(STACKS.map((s) => pods(namespaceOf(s))))).flat();
      // Heartbeats are stamped in whole seconds.
      const restartedAt = Math.floor(Date.now() / 1000) * 1000;
      await restartDaemon(KUBELET);
      // The new kubelet is back once it has reported the node again and serves exec into the pods it found running
      // (until it has synced them it answers "pod does not exist"); the API's pod status is the old kubelet's till then.
      const heartbeatSinceRestart = async () => {
        const nodes = await kubectlJson<{ items: Array<{ status: { conditions: Array<{ type: string; status: string; lastHeartbeatTime: string }> } }> }>("get", "nodes");
        return nodes.items.every((n) => n.status.conditions.some((c) => c.type === "Ready" && c.status === "True" && Date.parse(c.lastHeartbeatTime) >= restartedAt));
      };
      assert.ok(await waitFor(heartbeatSinceRestart, 120_000, 1000), "the node reported no Ready heartbeat within 120 s of the kubelet's restart");
      const execWorks = async () => {
        for (const stack of STACKS) await kubectl("exec", "-n", namespaceOf(stack), (await podOf(stack)).name, "--", "cat", "/proc/1/comm");
        return true;
      };
      assert.ok(await waitFor(execWorks, 120_000, 1000), "the restarted kubelet did not serve exec into the backends' pods within 120 s");
      const allReady = async () => (await Promise.all(STACKS.map((s) => pods(namespaceOf(s))))).flat().every((p) => p.ready);
      assert.ok(await waitFor(allReady, 120_000, 1000), "pods were not all ready within 120 s of the kubelet's restart");
      const podsAfter = (await Promise.all(STACKS.map((s) => pods(namespaceOf(s))))).flat();
      const describe = (list: PodState[]) => list.map((p) => `${p.name} restarts ${p.restarts}`).sort();
      assert.deepEqual(describe(podsAfter), describe(podsBefore));
      assert.deepEqual(await lost(), []);
    });
  });

  describe("the exporter stack in sidecar mode (exporterMode sidecar, appReplicas 3), switched in place", () => {
    const namespace = namespaceOf("exporter");
    let reader: ScaleOutReader;
    let sidecarUp: CliResult;
    /** The app's pods, not stopping ones. */
    const appPods = async () => (await pods(namespace)).filter((p) => p.app === "sample-api");
    const deploymentName = async () =>
      (await kubectlJson<{ items: Array<{ metadata: { name: string; labels: Record<string, string> } }> }>("get", "deployments", "-n", namespace)).items.find(
        (d) => d.metadata.labels["app.kubernetes.io/name"] === "sample-api",
      )!.metadata.name;

    before(async () => {
      await project.must(["config", "set", "exporterMode", "sidecar", "--stack", "exporter"]);
      await project.must(["config", "set", "appReplicas", "3", "--stack", "exporter"]);
      sidecarUp = await project.pulumi(["up", "--yes", "--stack", "exporter"]);
      if (sidecarUp.code === 0) outputs.exporter = await project.outputs("exporter");
      await waitForOldPods(namespace, 180_000);
      reader = new ScaleOutReader(String(outputs.exporter!.prometheusUrl), String(outputs.exporter!.appName));
    });

    it("pulumi up switches in place: 3 app pods, each with a ready statsd_exporter sidecar, and no central exporter left", async () => {
      assert.equal(sidecarUp.code, 0, failureReport(sidecarUp));
      assert.deepEqual(
        (await appPods()).map((p) => p.containers),
        [0, 1, 2].map(() => ["statsd-exporter ready", "sample-api ready"]),
      );
      assert.deepEqual((await pods(namespace)).filter((p) => p.app === "statsd-exporter"), []);
      assert.deepEqual((await servicePorts(namespace)).ClusterIP?.filter((p) => p.startsWith("statsd-exporter")), []);
    });

    it("Prometheus scrapes the 3 sidecars it found by DNS (the headless Service sample-api-replicas), each at its pod's address", async () => {
      const expected = (await appPods()).map((p) => `${p.ip}:9102 up`).sort();
      let targets: string[] = [];
      await waitFor(async () => JSON.stringify((targets = await reader.exporterTargets())) === JSON.stringify(expected), 60_000, 1000);
      assert.deepEqual(targets, expected);
    });

    /** A load through the app's Service for `seconds`: counted exactly, summed over the exporters, and by every pod's. */
    async function assertCountedByEveryPod(seconds: number): Promise<void> {
      const from = await reader.countFrom();
      const load = new SteadyLoad([String(outputs.exporter!.apiUrl)], 4);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const summaries = await load.stop();
      const { problems, description } = await reader.mismatchesSince(from, summaries);
      assert.deepEqual(problems, [], description);
      assert.deepEqual(Object.keys(await reader.countedByInstance(from)).sort(), (await appPods()).map((p) => `${p.ip}:9102`).sort());
    }

    it("a known load through the app's Service is counted exactly, summed over the 3 exporters, each of which counted its pod's share", async () => {
      await assertCountedByEveryPod(20);
    });

    it("a sidecar exporter OOM-killed (past its 128 MiB limit) is restarted in its pod by the kubelet: the same pod, every replica answers, and a load after it is counted exactly by all 3 exporters", async () => {
      const victim = (await appPods())[0]!;
      await oomKillInPod(namespace, victim.name, "statsd-exporter", EXPORTER_MEMORY_LIMIT_BYTES);
      let state = await containerState(namespace, victim.name, "statsd-exporter");
      await waitFor(async () => (state = await containerState(namespace, victim.name, "statsd-exporter")).restartCount >= 1 && state.ready, 120_000, 1000);
      assert.deepEqual(state, { ready: true, restartCount: 1, lastTerminationReason: "OOMKilled" });
      assert.ok((await appPods()).some((p) => p.uid === victim.uid && p.ready), `pod ${victim.name} was replaced or is not ready`);
      // Its target up again (scraped every 5 s) before the load starts.
      assert.ok(await reader.targetsUp(3), `exporter targets: ${(await reader.exporterTargets()).join(", ")}`);
      await assertCountedByEveryPod(15);
    });

    it("a rolling update of all 3 replicas under load (kubectl rollout restart): every request answered is counted, the stopped pods' last ones included", async () => {
      const before = new Set((await appPods()).map((p) => p.uid));
      const deployment = await deploymentName();
      const from = await reader.countFrom();
      const load = new SteadyLoad([String(outputs.exporter!.apiUrl)], 4);
      await kubectl("rollout", "restart", "-n", namespace, `deployment/${deployment}`);
      await kubectl("rollout", "status", "-n", namespace, `deployment/${deployment}`, "--timeout=300s");
      await waitForOldPods(namespace, 180_000);
      const summaries = await load.stop();
      assert.deepEqual((await appPods()).filter((p) => before.has(p.uid)), []);
      const { problems, description } = await reader.mismatchesSince(from, summaries);
      assert.deepEqual(problems, [], description);
    });

    it("appReplicas 3 -> 1 -> 3 under load: every request answered is counted over the range, the removed pods' last ones included", async () => {
      const from = await reader.countFrom();
      const load = new SteadyLoad([String(outputs.exporter!.apiUrl)], 4);
      await project.must(["config", "set", "appReplicas", "1", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      // The removed pods' sidecars outlive their app by 15 s: wait until they are gone, counts scraped or not.
      await waitForOldPods(namespace, 180_000);
      const scaledDown = (await appPods()).length;
      await project.must(["config", "set", "appReplicas", "3", "--stack", "exporter"]);
      await project.must(["up", "--yes", "--stack", "exporter"]);
      await new Promise((r) => setTimeout(r, 10_000));
      const summaries = await load.stop();
      assert.equal(scaledDown, 1);
      const { problems, description } = await reader.mismatchesSince(from, summaries);
      assert.deepEqual(problems, [], description);
    });
  });

  const namespaces = async () => (await kubectlJson<{ items: Array<{ metadata: { name: string } }> }>("get", "namespaces")).items.map((n) => n.metadata.name);
  /** The PersistentVolumes bound to a namespace's claims, as `claim volume`. */
  const volumesOf = async (namespace: string) =>
    (await kubectlJson<{ items: Array<{ metadata: { name: string }; spec: { claimRef?: { namespace: string; name: string } } }> }>("get", "pv")).items
      .filter((v) => v.spec.claimRef?.namespace === namespace)
      .map((v) => `${v.spec.claimRef!.name} ${v.metadata.name}`)
      .sort();
  const noVolumeOf = (namespace: string) => waitFor(async () => (await volumesOf(namespace)).length === 0, 60_000, 1000);

  describe("pulumi destroy (dataOnDestroy delete, the default)", () => {
    it("removes the exporter stack's namespace and everything in it, its claims' volumes included (dataOnDestroy delete, the default)", async () => {
      assert.deepEqual((await volumesOf(namespaceOf("exporter"))).map((v) => v.split(" ")[0]), ["alertmanager-data", "prometheus-data"]);
      await project.must(["destroy", "--yes", "--stack", "exporter"]);
      assert.ok(!(await namespaces()).includes(namespaceOf("exporter")), (await namespaces()).join(" "));
      assert.ok(await noVolumeOf(namespaceOf("exporter")), `volumes left: ${(await volumesOf(namespaceOf("exporter"))).join(", ")}`);
    });
  });

  describe("a replaced cluster", () => {
    it("pulumi up --refresh on a new cluster loads the app image again and brings the stack back", async () => {
      const context = await currentContext();
      // The add-ons talk to the cluster they were started for: they go with it, and start again for the new one,
      // whoever had started them (the new cluster has no default StorageClass without the provisioner).
      const running = ADDONS.filter((addon) => recordedPid(addon.daemon) !== undefined);
      for (const addon of running) await mustRun(addon.script, ["down"]);
      await mustRun(path.join(runtime, "k8s-down.sh"), []);
      await mustRun(path.join(runtime, "k8s-up.sh"), []);
      await importImages(runtime);
      for (const addon of running) await mustRun(addon.script, ["up"]);
      assert.equal(await currentContext(), context);
      const plan = await project.pulumi(["preview", "--refresh", "--json", "--stack", "graphite"]);
      const steps = (JSON.parse(plan.stdout) as { steps?: Array<{ op: string; urn: string }> }).steps ?? [];
      assert.ok(steps.some((s) => s.urn.endsWith("::pipeline-api-image-load") && ["replace", "create-replacement", "create"].includes(s.op)), plan.stdout.slice(0, 4000));
      await project.must(["up", "--refresh", "--yes", "--stack", "graphite"]);
      assert.deepEqual((await pods(namespaceOf("graphite"))).map((p) => `${p.app} ${p.ready ? "ready" : "not ready"}`), ["grafana ready", "graphite ready", "sample-api ready"]);
      // The new cluster assigned new NodePorts: the outputs follow.
      const apiUrl = String((await project.outputs("graphite")).apiUrl);
      assert.equal((await fetch(`${apiUrl}/healthz`)).status, 200);
    });
  });

  describe("pulumi destroy with dataOnDestroy retain (the graphite stack, on the replaced cluster)", () => {
    let reader: StoredSeriesReader;
    let stored: StoredFigures;
    let volumes: string[];
    /** graphite-web's URL: the NodePorts of a stack deployed again are new ones. */
    let graphiteUrl: string;
    const listFiles = async () => {
      const pod = (await pods(namespaceOf("graphite"))).find((p) => p.app === "graphite")!;
      return kubectl("exec", "-n", namespaceOf("graphite"), pod.name, "--", ...LIST_WHISPER_FILES);
    };

    before(async () => {
      const graphite = await project.outputs("graphite");
      graphiteUrl = String(graphite.graphiteUrl);
      reader = graphiteStoredSeries(() => graphiteUrl, Number(String(graphite.statsdEndpoint).split(":").at(-1)), listFiles);
      await reader.sendProbe();
      stored = await reader.read();
      volumes = await volumesOf(namespaceOf("graphite"));
    });

    it("pulumi destroy removes every workload but keeps the namespace, the claim and its volume", async () => {
      await project.must(["destroy", "--yes", "--stack", "graphite"]);
      const left = await kubectlJson<{ items: Array<{ kind: string; metadata: { name: string } }> }>("get", "deployments,services,configmaps,secrets,networkpolicies,pvc", "-n", namespaceOf("graphite"));
      assert.deepEqual(
        left.items.map((o) => `${o.kind} ${o.metadata.name}`).filter((o) => o !== "ConfigMap kube-root-ca.crt"),
        ["PersistentVolumeClaim graphite-data"],
      );
      assert.deepEqual(await volumesOf(namespaceOf("graphite")), volumes);
    });

    it("the next pulumi up takes the namespace and the claim up again, and graphite-web answers every stored series", async () => {
      await project.must(["up", "--yes", "--stack", "graphite"]);
      graphiteUrl = String((await project.outputs("graphite")).graphiteUrl);
      assert.deepEqual(await volumesOf(namespaceOf("graphite")), volumes);
      assert.deepEqual(lostSince(stored, await reader.read()), []);
    });

    it("destroyed again, then the namespace deleted by hand as README says, nothing of the stack is left: the volume goes with its claim", async () => {
      await project.must(["destroy", "--yes", "--stack", "graphite"]);
      await kubectl("delete", "namespace", namespaceOf("graphite"), "--wait=true");
      assert.ok(!(await namespaces()).includes(namespaceOf("graphite")));
      assert.ok(await noVolumeOf(namespaceOf("graphite")), `volumes left: ${(await volumesOf(namespaceOf("graphite"))).join(", ")}`);
    });
  });

  describe(`an exporter stack deployed by the release before the rename (${RELEASE_BEFORE_RENAME}), upgraded to this tree`, { skip: release.skip }, () => {
    let upgrade: ReleaseUpgrade;
    let namespaceUid: string;
    const uidOf = async (namespace: string) => (await kubectlJson<{ metadata: { uid: string } }>("get", "namespace", namespace)).metadata.uid;

    before(async () => {
      upgrade = await deployReleaseThenSwitch(tier, release.dir, "exporter", (project) => configure(project, "exporter"), async () => {
        namespaceUid = await uidOf(namespaceOf("exporter"));
      });
    });
    after(() => upgrade?.remove());

    it("previews one delete, Prometheus's Deployment (a StatefulSet on a claim replaces it): every other resource of the release maps to its new name (printed: what else changes)", (t) => {
      t.diagnostic(`planned: ${JSON.stringify(upgrade.planned)}`);
      // The release's name for it: what the plan deletes is the old state's resource.
      assert.deepEqual(upgrade.deleted, ["kubernetes:apps/v1:Deployment::exporter-prometheus-deployment"]);
    });

    it("previews nothing at all for the provider and the namespace, and creates only the new platform component, Alertmanager, Grafana's generated secret_key, the NetworkPolicies, the backends' claims and their StatefulSets", () => {
      const untouched = ["pulumi:providers:kubernetes::platform-provider", "kubernetes:core/v1:Namespace::platform-namespace"];
      assert.deepEqual(untouched.map((r) => upgrade.planned[r] ?? "same"), ["same", "same"]);
      assert.deepEqual(upgrade.created.sort(), [
        "kubernetes:apps/v1:StatefulSet::pipeline-alertmanager-statefulset",
        "kubernetes:apps/v1:StatefulSet::pipeline-prometheus-statefulset",
        "kubernetes:core/v1:ConfigMap::pipeline-alertmanager-config",
        "kubernetes:core/v1:PersistentVolumeClaim::pipeline-alertmanager-data",
        "kubernetes:core/v1:PersistentVolumeClaim::pipeline-prometheus-data",
        "kubernetes:core/v1:Service::pipeline-alertmanager-nodeport",
        "kubernetes:core/v1:Service::pipeline-alertmanager-service",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::pipeline-alertmanager-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::pipeline-api-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::pipeline-exporter-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::pipeline-grafana-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::pipeline-prometheus-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::platform-default-deny-ingress",
        "random:index/randomPassword:RandomPassword::pipeline-grafana-secret-key",
        "statsd-stack:index:Alertmanager::pipeline-alertmanager",
        "statsd-stack:index:KubernetesPlatform::platform",
      ]);
    });

    it("pulumi up moves the stack to the new names in the same namespace, every pod ready, and a second up changes nothing", async () => {
      const old = upgrade.project;
      await old.must(["up", "--yes", "--stack", "exporter"]);
      const state = await old.stateResources("exporter");
      assert.deepEqual(state.filter((r) => /Deployment::|StatefulSet::|Namespace::|providers:kubernetes::/.test(r)).sort(), [
        "kubernetes:apps/v1:Deployment::pipeline-api-deployment",
        "kubernetes:apps/v1:Deployment::pipeline-exporter-deployment",
        "kubernetes:apps/v1:Deployment::pipeline-grafana-deployment",
        "kubernetes:apps/v1:StatefulSet::pipeline-alertmanager-statefulset",
        "kubernetes:apps/v1:StatefulSet::pipeline-prometheus-statefulset",
        "kubernetes:core/v1:Namespace::platform-cluster-identity",
        "kubernetes:core/v1:Namespace::platform-namespace",
        "pulumi:providers:kubernetes::platform-provider",
      ]);
      assert.equal(await uidOf(namespaceOf("exporter")), namespaceUid);
      await waitForOldPods(namespaceOf("exporter"));
      assert.deepEqual(
        (await pods(namespaceOf("exporter"))).map((p) => `${p.app} ${p.ready ? "ready" : "not ready"}`),
        ["alertmanager ready", "grafana ready", "prometheus ready", "sample-api ready", "statsd-exporter ready"],
      );
      const again = await old.pulumi(["up", "--yes", "--expect-no-changes", "--stack", "exporter"]);
      assert.equal(again.code, 0, failureReport(again));
    });
  });
});
