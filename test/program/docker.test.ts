/**
 * The stack on the Docker platform, under Pulumi's mocks (the real CLI and Docker engine are the deploy tier's):
 * the resources it would create, how they are wired, and what they expose. Several stacks run in this one process.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { MAPPING_PATH } from "../../pipeline/exporter";
import { PROMETHEUS_RULES_PATH } from "../../pipeline/prometheus";
import { WHISPER_PRUNE_RUN_PATH, whisperPruneScript } from "../../pipeline/whisper-prune";
import { GRAPHITE_ADMIN_INIT_PATH, GRAPHITE_NGINX_SITE_PATH, graphiteAdminInitScript, graphiteNginxSite } from "../../pipeline/graphite-web";
import { STATSD_EXPIRY_BACKEND_PATH, statsdExpiryBackendJs } from "../../pipeline/statsd-expiry";
import { STATSD_UDP_DROPS_BACKEND_PATH, STATSD_UDP_SERVER_PATH, statsdUdpDropsBackendJs, statsdUdpServerJs } from "../../pipeline/statsd-receive-buffer";
import { envOf, ofType, one, parentChain, typeCounts, uploadOf } from "../support/graph";
import { plainOccurrences, plainStrings, runProgram, type CapturedResource, type ProgramRun } from "../support/program";

const CONTAINER = "docker:index/container:Container";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const aliasOf = (container: { inputs: any }) => container.inputs.networksAdvanced[0].aliases[0] as string;
/** The dashboards uploaded to Grafana, in order, as [file, title]. */
const grafanaDashboards = (grafana: CapturedResource) =>
  (grafana.inputs.uploads as Array<{ file: string; content: string }>)
    .filter((u) => u.file.startsWith("/etc/grafana/dashboards/"))
    .map((u) => [u.file, (JSON.parse(u.content) as { title: string }).title]);
const published = (run: ProgramRun) =>
  ofType(run, CONTAINER)
    .flatMap((c) => c.inputs.ports as any[])
    .map((p) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`)
    .sort();

describe("docker platform, graphite topology", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("graphite", { topology: "graphite" });
  });

  it("registers the platform with one network, three containers, the app image build and its owner, two pulled images, one volume, two generated passwords and two secret keys", () => {
    assert.deepEqual(typeCounts(run), {
      "docker:index/container:Container": 3,
      "docker:index/image:Image": 1,
      "docker:index/network:Network": 1,
      "docker:index/remoteImage:RemoteImage": 3,
      "docker:index/volume:Volume": 1,
      "random:index/randomPassword:RandomPassword": 4,
      "statsd-stack:index:DockerPlatform": 1,
      "statsd-stack:index:Grafana": 1,
      "statsd-stack:index:GraphiteStatsd": 1,
      "statsd-stack:index:SampleApi": 1,
      "statsd-stack:index:Topology": 1,
    });
  });

  it("names children for their role under the topology, and the network under the platform", () => {
    assert.deepEqual(ofType(run, CONTAINER).map((c) => [c.name, parentChain(run, c)]), [
      ["pipeline-graphite-container-0", ["statsd-stack:index:GraphiteStatsd::pipeline-graphite", "statsd-stack:index:Topology::pipeline"]],
      ["pipeline-api-container-0", ["statsd-stack:index:SampleApi::pipeline-api", "statsd-stack:index:Topology::pipeline"]],
      ["pipeline-grafana-container-0", ["statsd-stack:index:Grafana::pipeline-grafana", "statsd-stack:index:Topology::pipeline"]],
    ]);
    const network = ofType(run, "docker:index/network:Network")[0]!;
    assert.deepEqual([network.name, network.parent, network.inputs.name], ["platform-network", "statsd-stack:index:DockerPlatform::platform", "statsd-stack-graphite-net"]);
  });

  it("wires the app's STATSD_HOST and STATSD_PORT to the graphite container's alias and StatsD port", () => {
    const graphite = one(run, CONTAINER, "pipeline-graphite");
    const env = envOf(one(run, CONTAINER, "api"));
    assert.deepEqual([env.STATSD_HOST, env.STATSD_PORT, env.METRICS_STYLE], [aliasOf(graphite), "8125", "graphite"]);
    assert.equal(aliasOf(graphite), "graphite");
    assert.ok(graphite.inputs.ports.some((p: any) => p.internal === 8125 && p.protocol === "udp"));
  });

  it("points Grafana's only datasource at graphite-web inside the network", () => {
    const provisioning = parse(uploadOf(one(run, CONTAINER, "grafana"), "/etc/grafana/provisioning/datasources/statsd-stack.yaml"));
    assert.deepEqual(
      provisioning.datasources.map((d: any) => [d.type, d.uid, d.url, d.isDefault]),
      [["graphite", "statsd-stack-graphite", `http://${aliasOf(one(run, CONTAINER, "pipeline-graphite"))}:80`, true]],
    );
  });

  it("gives Grafana the app dashboard as its home and the pipeline health dashboard beside it", () => {
    const grafana = one(run, CONTAINER, "grafana");
    assert.deepEqual(grafanaDashboards(grafana), [
      ["/etc/grafana/dashboards/statsd-stack-graphite.json", "Sample API (StatsD + Graphite)"],
      ["/etc/grafana/dashboards/statsd-stack-pipeline-graphite.json", "Pipeline health (StatsD + Graphite)"],
    ]);
    assert.equal(envOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, "/etc/grafana/dashboards/statsd-stack-graphite.json");
  });

  it("publishes every port on 127.0.0.1, StatsD as UDP", () => {
    assert.deepEqual(published(run), ["127.0.0.1:3000->3000/tcp", "127.0.0.1:8000->8000/tcp", "127.0.0.1:8080->80/tcp", "127.0.0.1:8125->8125/udp"]);
  });

  it("runs containers by image ID, deleted before a replacement reuses their fixed names and ports", () => {
    for (const container of ofType(run, CONTAINER)) {
      assert.match(container.inputs.image, /^sha256:[0-9a-f]{64}$/, container.name);
      assert.equal(container.options.deleteBeforeReplace, true, container.name);
      assert.equal(container.inputs.restart, "unless-stopped");
    }
  });

  it("builds the app image under the stack's own name and removes it when the stack goes", () => {
    const build = one(run, "docker:index/image:Image", "api-build");
    assert.match(build.inputs.imageName, /^statsd-stack-graphite\/sample-api:[0-9a-f]{16}$/);
    const owner = one(run, "docker:index/remoteImage:RemoteImage", "api-image");
    assert.deepEqual([owner.inputs.name, owner.inputs.keepLocally], [build.inputs.imageName, false]);
    assert.equal(one(run, CONTAINER, "api").inputs.image, owner.state.imageId);
    const pulled = ofType(run, "docker:index/remoteImage:RemoteImage").filter((r) => r !== owner);
    assert.deepEqual(pulled.map((r) => [r.inputs.name, r.inputs.keepLocally]).sort(), [
      ["grafana/grafana:13.2.2", true],
      ["graphiteapp/graphite-statsd:1.1.10-5", true],
    ]);
  });

  it("keeps the Docker names of containers and volumes (renaming them would replace containers and lose data)", () => {
    assert.deepEqual(
      ofType(run, CONTAINER).map((c) => c.inputs.name),
      ["statsd-stack-graphite-graphite-0", "statsd-stack-graphite-sample-api-0", "statsd-stack-graphite-grafana-0"],
    );
    assert.deepEqual(ofType(run, "docker:index/volume:Volume").map((v) => v.inputs.name), ["statsd-stack-graphite-graphite-data-0"]);
  });

  it("stops graphite-statsd with a 90 s timeout: runit waits up to 60 s (SVWAIT) for carbon to write its cache", () => {
    const graphite = one(run, CONTAINER, "pipeline-graphite");
    assert.deepEqual([graphite.inputs.stopTimeout, envOf(graphite).SVWAIT], [90, "60"]);
  });

  it("limits each container's memory without swap, and its CPUs in the form Docker reads back", () => {
    const limits = Object.fromEntries(ofType(run, CONTAINER).map((c) => [c.inputs.name, [c.inputs.memory, c.inputs.memorySwap, c.inputs.cpus]]));
    assert.deepEqual(limits, {
      "statsd-stack-graphite-graphite-0": [768, 768, "1.0"],
      "statsd-stack-graphite-sample-api-0": [256, 256, "1.0"],
      "statsd-stack-graphite-grafana-0": [512, 512, "1.0"],
    });
  });

  it("gives Grafana a scratch data directory that starts empty, and no volume", () => {
    const grafana = one(run, CONTAINER, "grafana");
    assert.deepEqual(grafana.inputs.tmpfs, { "/var/lib/grafana": "rw,nosuid,nodev,size=64m", "/tmp": "rw,noexec,nosuid,size=16m" });
    assert.deepEqual(grafana.inputs.volumes, []);
  });

  it("delivers the generated statsd and carbon settings, and the whisper prune service, into the graphite container", () => {
    const graphite = one(run, CONTAINER, "pipeline-graphite");
    assert.deepEqual(
      (graphite.inputs.uploads as any[]).map((u) => u.file),
      [
        "/opt/statsd/config/udp.js",
        "/opt/statsd/backends/own-metrics-expiry.js",
        "/opt/statsd/servers/udp-receive-buffer.js",
        "/opt/statsd/backends/udp-receive-buffer-drops.js",
        "/opt/graphite/conf/carbon.conf",
        "/opt/graphite/conf/storage-schemas.conf",
        "/opt/graphite/conf/storage-aggregation.conf",
        "/etc/nginx/sites-enabled/graphite-statsd.conf",
        "/opt/graphite/bin/django_admin_init.sh",
        "/etc/service/whisper-prune/run",
      ],
    );
    assert.match(uploadOf(graphite, "/opt/graphite/conf/carbon.conf"), /^MAX_CREATES_PER_MINUTE = 1000$/m);
    assert.match(uploadOf(graphite, "/opt/statsd/config/udp.js"), /"flushInterval": 10000/);
    assert.match(uploadOf(graphite, "/opt/graphite/conf/storage-schemas.conf"), /retentions = 10s:6h,1m:7d,10m:1y/);
  });

  it("exports the URLs of the API, Grafana and graphite-web, the StatsD endpoint, and both generated admin passwords as secrets", () => {
    const generated = one(run, PASSWORD, "grafana-admin-password").state.result as string;
    const graphite = one(run, PASSWORD, "graphite-admin-password").state.result as string;
    assert.match(generated, /^[0-9a-f]{24}$/);
    assert.match(graphite, /^[0-9a-f]{24}$/);
    assert.deepEqual(run.outputs, {
      topology: "graphite",
      platform: "docker",
      appName: "sample-api",
      metricPrefix: "sample_api",
      apiUrl: "http://127.0.0.1:8000",
      grafanaUrl: "http://127.0.0.1:3000",
      graphiteUrl: "http://127.0.0.1:8080",
      statsdEndpoint: "127.0.0.1:8125",
      grafanaAdminUser: "admin",
      grafanaAdminPassword: generated,
      graphiteAdminUser: "root",
      graphiteAdminPassword: graphite,
    });
    assert.deepEqual(run.secretOutputs, ["grafanaAdminPassword", "graphiteAdminPassword"]);
  });

  it("gives Grafana the generated password, and shows it in no plain input of any resource", () => {
    const generated = one(run, PASSWORD, "grafana-admin-password").state.result as string;
    assert.equal(envOf(one(run, CONTAINER, "grafana")).GF_SECURITY_ADMIN_PASSWORD, generated);
    assert.deepEqual(plainOccurrences(run, generated), []);
  });

  it("gives graphite-web its generated admin password and secret key in its environment, and neither in any plain input", () => {
    const env = envOf(one(run, CONTAINER, "pipeline-graphite"));
    const password = one(run, PASSWORD, "graphite-admin-password").state.result as string;
    const key = one(run, PASSWORD, "graphite-secret-key").state.result as string;
    assert.deepEqual([env.GRAPHITE_ADMIN_PASSWORD, env.GRAPHITE_SECRET_KEY], [password, key]);
    assert.deepEqual([plainOccurrences(run, password), plainOccurrences(run, key)], [[], []]);
  });

  it("gives Grafana a generated secret_key, in no plain input", () => {
    const key = one(run, PASSWORD, "grafana-secret-key").state.result as string;
    assert.equal(envOf(one(run, CONTAINER, "grafana")).GF_SECURITY_SECRET_KEY, key);
    assert.deepEqual(plainOccurrences(run, key), []);
  });

  it("replaces the image's root/root admin script with an executable one that sets the password from the environment", () => {
    const graphite = one(run, CONTAINER, "pipeline-graphite");
    const upload = (graphite.inputs.uploads as Array<{ file: string; executable?: boolean }>).find((u) => u.file === GRAPHITE_ADMIN_INIT_PATH);
    assert.equal(upload?.executable, true);
    assert.equal(uploadOf(graphite, GRAPHITE_ADMIN_INIT_PATH), graphiteAdminInitScript());
  });

  it("serves graphite-web through the image's nginx with the generated site, and carbon posts tags to gunicorn directly", () => {
    const graphite = one(run, CONTAINER, "pipeline-graphite");
    assert.equal(uploadOf(graphite, GRAPHITE_NGINX_SITE_PATH), graphiteNginxSite({ listenPort: 80, upstreamPort: 8080 }));
    assert.match(uploadOf(graphite, "/opt/graphite/conf/carbon.conf"), /^GRAPHITE_URL = http:\/\/127\.0\.0\.1:8080$/m);
  });

  it("enables anonymous Viewer access, never sign-up", () => {
    const env = envOf(one(run, CONTAINER, "grafana"));
    assert.deepEqual([env.GF_AUTH_ANONYMOUS_ENABLED, env.GF_AUTH_ANONYMOUS_ORG_ROLE, env.GF_USERS_ALLOW_SIGN_UP], ["true", "Viewer", "false"]);
  });

  it("provisions Grafana's three service alert rules on the stack's app and prefix and its series flood rule, and no contact point or policy without a webhook URL", () => {
    const grafana = one(run, CONTAINER, "grafana");
    const alerting = (grafana.inputs.uploads as Array<{ file: string }>).map((u) => u.file).filter((f) => f.startsWith("/etc/grafana/provisioning/alerting/"));
    assert.deepEqual(alerting, ["/etc/grafana/provisioning/alerting/statsd-stack-rules.yaml"]);
    const rules = parse(uploadOf(grafana, alerting[0]!)).groups[0].rules;
    assert.deepEqual(
      rules.map((r: any) => [r.title, r.labels.app_name, r.data[0].datasourceUid, r.data[2].model.conditions[0].evaluator.params[0], r.for]),
      [
        ["AppHighServerErrorRatio", "sample-api", "statsd-stack-graphite", 0.05, "5m"],
        ["AppHighLatencyP99", "sample-api", "statsd-stack-graphite", 6, "10m"],
        ["AppNotReporting", "sample-api", "statsd-stack-graphite", 1, "1m"],
        ["StatsdSeriesFlood", undefined, "statsd-stack-graphite", 10000, "10m"],
      ],
    );
    assert.match(rules[0].data[0].model.target, /stats_counts\.sample_api\.http_requests\./);
    assert.equal(envOf(grafana).STATSD_STACK_ALERT_WEBHOOK_URL, undefined);
  });
});

describe("docker platform, exporter topology with a configured admin password", () => {
  const chosen = "a-user-chosen-secret";
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", { topology: "exporter", grafanaAdminPassword: chosen }, ["grafanaAdminPassword"]);
  });

  it("registers five containers, each under its role's component, and no generated password: Grafana's secret key only", () => {
    assert.deepEqual(
      ofType(run, CONTAINER).map((c) => [c.name, c.parent]),
      [
        ["pipeline-exporter-container-0", "statsd-stack:index:StatsdExporter::pipeline-exporter"],
        ["pipeline-alertmanager-container-0", "statsd-stack:index:Alertmanager::pipeline-alertmanager"],
        ["pipeline-prometheus-container-0", "statsd-stack:index:Prometheus::pipeline-prometheus"],
        ["pipeline-api-container-0", "statsd-stack:index:SampleApi::pipeline-api"],
        ["pipeline-grafana-container-0", "statsd-stack:index:Grafana::pipeline-grafana"],
      ],
    );
    assert.deepEqual(ofType(run, PASSWORD).map((p) => p.name), ["pipeline-grafana-secret-key"]);
  });

  it("wires the app to the exporter's alias and StatsD port, in the DogStatsD style", () => {
    const exporter = one(run, CONTAINER, "pipeline-exporter");
    const env = envOf(one(run, CONTAINER, "api"));
    assert.deepEqual([env.STATSD_HOST, env.STATSD_PORT, env.METRICS_STYLE], [aliasOf(exporter), "9125", "dogstatsd"]);
    assert.ok(exporter.inputs.ports.some((p: any) => p.internal === 9125 && p.protocol === "udp"));
  });

  it("scrapes the exporter's alias and web port from Prometheus", () => {
    const config = parse(uploadOf(one(run, CONTAINER, "prometheus"), "/etc/prometheus/prometheus.yml"));
    assert.deepEqual(config.scrape_configs[0].static_configs[0].targets, [`${aliasOf(one(run, CONTAINER, "pipeline-exporter"))}:9102`]);
  });

  it("uploads Prometheus's config and, beside it, the rule file it names, with the stack's app and default thresholds", () => {
    const prometheus = one(run, CONTAINER, "prometheus");
    assert.deepEqual(
      prometheus.inputs.uploads.map((u: any) => u.file),
      ["/etc/prometheus/prometheus.yml", "/etc/prometheus/rules.yml"],
    );
    assert.deepEqual(parse(uploadOf(prometheus, "/etc/prometheus/prometheus.yml")).rule_files, ["rules.yml"]);
    const alerts = parse(uploadOf(prometheus, "/etc/prometheus/rules.yml")).groups[1].rules;
    assert.deepEqual(
      alerts.filter((r: any) => r.alert.startsWith("App")).map((r: any) => [r.alert, r.expr, r.for]),
      [
        ["AppHighServerErrorRatio", "app_name:http_requests_server_errors:ratio_rate5m > 0.05", "5m"],
        ["AppHighLatencyP99", "app_name:http_request_duration_seconds:p99_rate5m > 6", "10m"],
        ["AppNotReporting", 'absent(app_info{app_name="sample-api"}) and on () (up{job="statsd-exporter"} == 1)', "1m"],
      ],
    );
  });

  it("points Grafana's only datasource at Prometheus inside the network", () => {
    const provisioning = parse(uploadOf(one(run, CONTAINER, "grafana"), "/etc/grafana/provisioning/datasources/statsd-stack.yaml"));
    assert.deepEqual(
      provisioning.datasources.map((d: any) => [d.type, d.url]),
      [["prometheus", `http://${aliasOf(one(run, CONTAINER, "prometheus"))}:9090`]],
    );
  });

  it("gives Grafana the app dashboard as its home and the pipeline health dashboard beside it", () => {
    const grafana = one(run, CONTAINER, "grafana");
    assert.deepEqual(grafanaDashboards(grafana), [
      ["/etc/grafana/dashboards/statsd-stack-prometheus.json", "Sample API (statsd_exporter + Prometheus)"],
      ["/etc/grafana/dashboards/statsd-stack-pipeline-exporter.json", "Pipeline health (statsd_exporter + Prometheus)"],
    ]);
    assert.equal(envOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, "/etc/grafana/dashboards/statsd-stack-prometheus.json");
  });

  it("provisions no alert rules in Grafana: the exporter topology's alerts are Prometheus's", () => {
    const files = (one(run, CONTAINER, "grafana").inputs.uploads as Array<{ file: string }>).map((u) => u.file);
    assert.deepEqual(files.filter((f) => f.includes("/alerting/")), []);
  });

  it("publishes every port on 127.0.0.1, StatsD as UDP, on the exporter stack's own host ports", () => {
    assert.deepEqual(published(run), [
      "127.0.0.1:3001->3000/tcp",
      "127.0.0.1:8100->8000/tcp",
      "127.0.0.1:9090->9090/tcp",
      "127.0.0.1:9093->9093/tcp",
      "127.0.0.1:9102->9102/tcp",
      "127.0.0.1:9125->9125/udp",
    ]);
  });

  it("stops Prometheus with a 60 s timeout instead of Docker's 10 s", () => {
    assert.equal(one(run, CONTAINER, "prometheus").inputs.stopTimeout, 60);
  });

  it("points Prometheus at Alertmanager's alias and port", () => {
    const config = parse(uploadOf(one(run, CONTAINER, "prometheus"), "/etc/prometheus/prometheus.yml"));
    assert.deepEqual(config.alerting, {
      alertmanagers: [{ api_version: "v2", static_configs: [{ targets: [`${aliasOf(one(run, CONTAINER, "alertmanager"))}:9093`] }] }],
    });
  });

  it("without alertWebhookUrl, Alertmanager routes every alert to a receiver that sends nothing, and has no secret file", () => {
    const am = one(run, CONTAINER, "alertmanager");
    const config = parse(uploadOf(am, "/etc/alertmanager/alertmanager.yml"));
    assert.deepEqual([config.route.receiver, config.receivers], ["none", [{ name: "none" }]]);
    assert.deepEqual((am.inputs.uploads as any[]).map((u) => u.file), ["/etc/alertmanager/alertmanager.yml"]);
  });

  it("gives Grafana the configured password, exports it as a secret, and shows it in no plain input of any resource", () => {
    assert.equal(envOf(one(run, CONTAINER, "grafana")).GF_SECURITY_ADMIN_PASSWORD, chosen);
    assert.equal(run.outputs.grafanaAdminPassword, chosen);
    assert.deepEqual(run.secretOutputs, ["grafanaAdminPassword"]);
    assert.deepEqual(plainOccurrences(run, chosen), []);
  });

  it("exports the URLs of the API, Grafana, Prometheus, Alertmanager and the exporter's metrics, and the StatsD endpoint", () => {
    assert.deepEqual(
      [run.outputs.apiUrl, run.outputs.grafanaUrl, run.outputs.prometheusUrl, run.outputs.alertmanagerUrl, run.outputs.exporterMetricsUrl, run.outputs.statsdEndpoint],
      ["http://127.0.0.1:8100", "http://127.0.0.1:3001", "http://127.0.0.1:9090", "http://127.0.0.1:9093", "http://127.0.0.1:9102/metrics", "127.0.0.1:9125"],
    );
  });
});

describe("docker platform, exporter topology with a webhook for alerts", () => {
  const url = `https://hooks.example.com/alerts?token=${"t0k3n".repeat(4)}`;
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", { topology: "exporter", alertWebhookUrl: url, alertGroupWait: "10s", alertGroupInterval: "1m", alertRepeatInterval: "12h" }, ["alertWebhookUrl"]);
  });

  it("gives Alertmanager the URL in a file of its own, which alertmanager.yml names as the webhook's url_file", () => {
    const am = one(run, CONTAINER, "alertmanager");
    const config = parse(uploadOf(am, "/etc/alertmanager/alertmanager.yml"));
    assert.deepEqual(config.receivers, [{ name: "webhook", webhook_configs: [{ url_file: "/etc/alertmanager/secrets/webhook-url", send_resolved: true }] }]);
    assert.equal(uploadOf(am, "/etc/alertmanager/secrets/webhook-url"), url);
  });

  it("routes with the configured timers, grouped by alert and app, and mutes the service alerts while statsd_exporter is down", () => {
    const config = parse(uploadOf(one(run, CONTAINER, "alertmanager"), "/etc/alertmanager/alertmanager.yml"));
    assert.deepEqual(config.route, { receiver: "webhook", group_by: ["alertname", "app_name"], group_wait: "10s", group_interval: "1m", repeat_interval: "12h" });
    assert.deepEqual(config.inhibit_rules, [
      { source_matchers: ['alertname="StatsdExporterDown"'], target_matchers: ['alertname=~"AppHighServerErrorRatio|AppHighLatencyP99|AppNotReporting"'] },
    ]);
  });

  it("shows the URL in no plain input of any resource", () => {
    assert.deepEqual(plainOccurrences(run, url), []);
  });
});

describe("docker platform, graphite topology with a webhook for alerts", () => {
  const url = `https://hooks.example.com/grafana?token=${"s3cr3t".repeat(4)}`;
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(
      "graphite",
      { topology: "graphite", alertWebhookUrl: url, alertGroupWait: "10s", alertGroupInterval: "1m", alertRepeatInterval: "12h", metricPrefix: "shop", appName: "shop-api" },
      ["alertWebhookUrl"],
    );
  });

  it("gives Grafana a webhook contact point whose URL is a reference to its environment, and the policy with the configured timers", () => {
    const grafana = one(run, CONTAINER, "grafana");
    const notifications = parse(uploadOf(grafana, "/etc/grafana/provisioning/alerting/statsd-stack-notifications.yaml"));
    assert.deepEqual(notifications.contactPoints[0].receivers[0], {
      uid: "statsd-stack-webhook",
      type: "webhook",
      settings: { url: "${STATSD_STACK_ALERT_WEBHOOK_URL}", httpMethod: "POST" },
      disableResolveMessage: false,
    });
    assert.deepEqual(notifications.policies, [
      { orgId: 1, receiver: "statsd-stack-webhook", group_by: ["alertname", "app_name"], group_wait: "10s", group_interval: "1m", repeat_interval: "12h" },
    ]);
  });

  it("puts the URL in Grafana's environment, where the contact point reads it", () => {
    assert.equal(envOf(one(run, CONTAINER, "grafana")).STATSD_STACK_ALERT_WEBHOOK_URL, url);
  });

  it("watches the configured app and prefix (the series flood rule is the pipeline's: no app label)", () => {
    const rules = parse(uploadOf(one(run, CONTAINER, "grafana"), "/etc/grafana/provisioning/alerting/statsd-stack-rules.yaml")).groups[0].rules;
    assert.deepEqual(rules.map((r: any) => r.labels.app_name), ["shop-api", "shop-api", "shop-api", undefined]);
    assert.equal(rules[2].data[0].model.target, "alias(transformNull(movingSum(sumSeries(stats_counts.shop.app_info.shop-api.*), '1min'), 0), 'info_reports')");
  });

  it("shows the URL in no plain input of any resource", () => {
    assert.deepEqual(plainOccurrences(run, url), []);
  });
});

describe("docker platform, exporter topology in sidecar mode (exporterMode sidecar, appReplicas 3)", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("exporter", { topology: "exporter", exporterMode: "sidecar", appReplicas: "3" });
  });
  const sidecars = () => ofType(run, CONTAINER).filter((c) => c.name.startsWith("pipeline-api-statsd-exporter-"));
  const holders = () => ofType(run, CONTAINER).filter((c) => c.name.startsWith("pipeline-api-netns-"));

  it("runs no central exporter: a statsd_exporter container beside each app replica, and a container holding their network, under the app's component", () => {
    assert.deepEqual(
      ofType(run, CONTAINER)
        .filter((c) => c.name.includes("api") || c.name.includes("exporter"))
        .map((c) => [c.name, c.inputs.name, c.parent]),
      [0, 1, 2].flatMap((n) => [
        [`pipeline-api-netns-${n}`, `statsd-stack-exporter-sample-api-netns-${n}`, "statsd-stack:index:SampleApi::pipeline-api"],
        [`pipeline-api-statsd-exporter-${n}`, `statsd-stack-exporter-sample-api-statsd-exporter-${n}`, "statsd-stack:index:SampleApi::pipeline-api"],
        [`pipeline-api-container-${n}`, `statsd-stack-exporter-sample-api-${n}`, "statsd-stack:index:SampleApi::pipeline-api"],
      ]),
    );
    assert.equal(typeCounts(run)["statsd-stack:index:StatsdExporter"], undefined);
  });

  it("each replica and its sidecar join the holder's network namespace, and the replica sends StatsD to the sidecar on localhost", () => {
    const replicas = ofType(run, CONTAINER).filter((c) => c.name.startsWith("pipeline-api-container-"));
    assert.deepEqual(
      replicas.map((c) => [c.inputs.networkMode, c.inputs.networksAdvanced, c.inputs.ports, envOf(c).STATSD_HOST, envOf(c).STATSD_PORT]),
      [0, 1, 2].map((n) => [`container:pipeline-api-netns-${n}-id`, undefined, undefined, "127.0.0.1", "9125"]),
    );
    assert.deepEqual(
      sidecars().map((c) => [c.inputs.networkMode, c.inputs.networksAdvanced, c.inputs.ports]),
      [0, 1, 2].map((n) => [`container:pipeline-api-netns-${n}-id`, undefined, undefined]),
    );
  });

  it("each replica's container depends on its sidecar's, so Pulumi stops the replica first and the sidecar after", () => {
    assert.deepEqual(
      [0, 1, 2].map((n) => one(run, CONTAINER, `pipeline-api-container-${n}`).options.dependsOn),
      [0, 1, 2].map((n) => [`${CONTAINER}::pipeline-api-statsd-exporter-${n}`]),
    );
  });

  it("each holder has the app's alias and publishes replica n's API, StatsD and /metrics at the port + n", () => {
    assert.deepEqual(
      holders().map((c) => [aliasOf(c), c.inputs.ports.map((p: any) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`)]),
      [0, 1, 2].map((n) => ["sample-api", [`127.0.0.1:${8100 + n}->8000/tcp`, `127.0.0.1:${9125 + n}->9125/udp`, `127.0.0.1:${9102 + n}->9102/tcp`]]),
    );
  });

  it("each holder only sleeps, from the app's image: as the app's user, read-only, no capability, 16 MiB, no health check of its own, restarted unless stopped, killed at once on stop", () => {
    const app = one(run, CONTAINER, "pipeline-api-container-0");
    assert.deepEqual(
      holders().map((c) => [
        c.inputs.image === app.inputs.image,
        c.inputs.entrypoints,
        c.inputs.command,
        c.inputs.user,
        c.inputs.readOnly,
        c.inputs.capabilities,
        c.inputs.securityOpts,
        c.inputs.memory,
        c.inputs.memorySwap,
        c.inputs.healthcheck,
        c.inputs.restart,
        c.inputs.stopSignal,
      ]),
      [0, 1, 2].map(() => [
        true,
        ["sleep", "infinity"],
        undefined,
        "1000:1000",
        true,
        { drops: ["ALL"] },
        ["no-new-privileges:true"],
        16,
        16,
        { tests: ["NONE"] },
        "unless-stopped",
        "SIGKILL",
      ]),
    );
  });

  it("stops a sidecar with a signal statsd_exporter ignores and kills it 15 s later (three scrape intervals), after its replica was stopped with 20 s to finish", () => {
    assert.deepEqual(
      sidecars().map((c) => [c.inputs.stopSignal, c.inputs.stopTimeout, c.inputs.destroyGraceSeconds]),
      [0, 1, 2].map(() => ["SIGWINCH", 15, 15]),
    );
    const replica = one(run, CONTAINER, "pipeline-api-container-0");
    assert.deepEqual([replica.inputs.stopTimeout, replica.inputs.destroyGraceSeconds], [20, 20]);
  });

  it("gives each sidecar the catalog's mapping, the exporter's command line, user, limits and health check", () => {
    const sidecar = sidecars()[0]!;
    const mapping = parse(uploadOf(sidecar, MAPPING_PATH));
    assert.deepEqual(mapping.mappings.length, 3);
    assert.deepEqual(sidecar.inputs.command, one(run, CONTAINER, "pipeline-api-statsd-exporter-1").inputs.command);
    assert.deepEqual(sidecar.inputs.command, [
      `--statsd.mapping-config=${MAPPING_PATH}`,
      "--statsd.listen-udp=:9125",
      "--statsd.listen-tcp=:9125",
      "--web.listen-address=:9102",
      "--statsd.read-buffer=4194304",
    ]);
    assert.deepEqual([sidecar.inputs.user, sidecar.inputs.memory, sidecar.inputs.cpus, sidecar.inputs.healthcheck.tests], [
      "65534:65534",
      128,
      "1.0",
      ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9102/-/healthy"],
    ]);
  });

  it("Prometheus finds every sidecar by DNS: the app's alias, on the exporter's web port, resolved every 5 s", () => {
    const config = parse(uploadOf(one(run, CONTAINER, "prometheus"), "/etc/prometheus/prometheus.yml"));
    assert.deepEqual(config.scrape_configs[0], {
      job_name: "statsd-exporter",
      honor_labels: true,
      dns_sd_configs: [{ names: ["sample-api"], type: "A", port: 9102, refresh_interval: "5s" }],
    });
  });

  it("outputs replica 0's StatsD endpoint and /metrics", () => {
    assert.deepEqual([run.outputs.statsdEndpoint, run.outputs.exporterMetricsUrl], ["127.0.0.1:9125", "http://127.0.0.1:9102/metrics"]);
  });
});

describe("docker platform, settings", () => {
  it("bindAddress, apiPort and appReplicas move every replica's published port", async () => {
    const run = await runProgram("exporter", { topology: "exporter", bindAddress: "0.0.0.0", apiPort: "18000", appReplicas: "2" });
    const api = ofType(run, CONTAINER).filter((c) => c.name.includes("api"));
    assert.deepEqual(
      api.map((c) => [c.name, c.inputs.name, c.inputs.ports[0].ip, c.inputs.ports[0].external]),
      [
        ["pipeline-api-container-0", "statsd-stack-exporter-sample-api-0", "0.0.0.0", 18000],
        ["pipeline-api-container-1", "statsd-stack-exporter-sample-api-1", "0.0.0.0", 18001],
      ],
    );
  });

  it("prometheusRetentionTime and prometheusRetentionSize become Prometheus's retention flags", async () => {
    const run = await runProgram("exporter", { topology: "exporter", prometheusRetentionTime: "30d", prometheusRetentionSize: "20GB" });
    const args = one(run, CONTAINER, "prometheus").inputs.command as string[];
    assert.deepEqual(args.filter((a) => a.startsWith("--storage.tsdb.retention")), ["--storage.tsdb.retention.time=30d", "--storage.tsdb.retention.size=20GB"]);
  });

  it("exporterOwnMetricsTtl becomes the TTL of the mapping's defaults, for a team's series only", async () => {
    const run = await runProgram("exporter", { topology: "exporter", exporterOwnMetricsTtl: "90m" });
    const mapping = parse(uploadOf(one(run, CONTAINER, "pipeline-exporter"), MAPPING_PATH));
    assert.deepEqual([mapping.defaults.ttl, ...mapping.mappings.map((m: any) => m.ttl)], ["90m", "876000h", "876000h", "60s"]);
  });

  it("by default Prometheus keeps 7 days and at most 2GB, and its rules hold the storage alert", async () => {
    const run = await runProgram("exporter", { topology: "exporter" });
    const prometheus = one(run, CONTAINER, "prometheus");
    const args = prometheus.inputs.command as string[];
    assert.deepEqual(args.filter((a) => a.startsWith("--storage.tsdb.retention")), ["--storage.tsdb.retention.time=7d", "--storage.tsdb.retention.size=2GB"]);
    const rules = parse(uploadOf(prometheus, PROMETHEUS_RULES_PATH)).groups.flatMap((g: any) => g.rules.map((r: any) => r.alert ?? r.record));
    assert.ok(rules.includes("PrometheusStorageNearRetentionSize"), rules.join(", "));
  });

  it("graphiteRetentions becomes every storage schema's retentions", async () => {
    const run = await runProgram("graphite", { topology: "graphite", graphiteRetentions: "10s:1d,5m:90d" });
    const schemas = uploadOf(one(run, CONTAINER, "pipeline-graphite"), "/opt/graphite/conf/storage-schemas.conf");
    assert.deepEqual([...schemas.matchAll(/^retentions = (.*)$/gm)].map((m) => m[1]), ["10s:1d,5m:90d", "10s:1d,5m:90d", "10s:1d,5m:90d"]);
  });

  it("graphiteOwnMetricsExpiry and metricPrefix reach statsd's config, which lists the drops backend, statsd's graphite backend and the expiry backend the container gets beside them", async () => {
    const statsdConfig = (container: ReturnType<typeof one>) =>
      new Function(`return ${uploadOf(container, "/opt/statsd/config/udp.js").replace(/^\/\/.*\n/, "")}`)();
    const run = await runProgram("graphite", { topology: "graphite", graphiteOwnMetricsExpiry: "1h30m", metricPrefix: "shop" });
    const graphite = one(run, CONTAINER, "pipeline-graphite");
    const config = statsdConfig(graphite);
    assert.deepEqual(config.backends, [STATSD_UDP_DROPS_BACKEND_PATH, "./backends/graphite", STATSD_EXPIRY_BACKEND_PATH]);
    assert.deepEqual(config.ownMetricsExpiry, { seconds: 5400, keep: ["shop.http_request_duration_ms", "shop.http_requests", "shop.app_info"] });
    assert.equal(uploadOf(graphite, STATSD_EXPIRY_BACKEND_PATH), statsdExpiryBackendJs());
    assert.equal(uploadOf(graphite, STATSD_UDP_DROPS_BACKEND_PATH), statsdUdpDropsBackendJs());
    const never = statsdConfig(one(await runProgram("graphite", { topology: "graphite", graphiteOwnMetricsExpiry: "0s" }), CONTAINER, "pipeline-graphite"));
    assert.deepEqual(never.backends, [STATSD_UDP_DROPS_BACKEND_PATH, "./backends/graphite"]);
    assert.equal(never.ownMetricsExpiry, undefined);
  });

  it("graphiteOwnMetricsPruneAfter and metricPrefix make graphite-statsd's whisper prune service, an executable runit run script; 0s leaves it out", async () => {
    const graphite = one(await runProgram("graphite", { topology: "graphite", graphiteOwnMetricsPruneAfter: "720h", metricPrefix: "shop" }), CONTAINER, "pipeline-graphite");
    const upload = (graphite.inputs.uploads as Array<{ file: string; executable?: boolean }>).find((u) => u.file === WHISPER_PRUNE_RUN_PATH);
    assert.equal(upload?.executable, true);
    assert.equal(uploadOf(graphite, WHISPER_PRUNE_RUN_PATH), whisperPruneScript({ whisperDir: "/opt/graphite/storage/whisper", pruneAfter: "720h", metricPrefix: "shop" }));
    const never = one(await runProgram("graphite", { topology: "graphite", graphiteOwnMetricsPruneAfter: "0s" }), CONTAINER, "pipeline-graphite");
    assert.deepEqual((never.inputs.uploads as Array<{ file: string }>).filter((u) => u.file.startsWith("/etc/service/")), []);
  });

  it("statsdReceiveBuffer is statsd_exporter's --statsd.read-buffer (4 MiB by default); 0 leaves the flag out", async () => {
    const readBuffer = async (config: Record<string, string>) =>
      (one(await runProgram("exporter", { topology: "exporter", ...config }), CONTAINER, "pipeline-exporter").inputs.command as string[]).filter((a) =>
        a.startsWith("--statsd.read-buffer"),
      );
    assert.deepEqual(
      [await readBuffer({}), await readBuffer({ statsdReceiveBuffer: "8388608" }), await readBuffer({ statsdReceiveBuffer: "0" })],
      [["--statsd.read-buffer=4194304"], ["--statsd.read-buffer=8388608"], []],
    );
  });

  it("statsdReceiveBuffer makes statsd run the generated UDP server asking for it; 0 keeps statsd's own ./servers/udp", async () => {
    const servers = (graphite: ReturnType<typeof one>) =>
      new Function(`return ${uploadOf(graphite, "/opt/statsd/config/udp.js").replace(/^\/\/.*\n/, "")}`)().servers;
    const graphite = one(await runProgram("graphite", { topology: "graphite", statsdReceiveBuffer: "8388608" }), CONTAINER, "pipeline-graphite");
    assert.deepEqual(servers(graphite), [{ server: STATSD_UDP_SERVER_PATH, address: "0.0.0.0", port: 8125, recvBufferSize: 8_388_608 }]);
    assert.equal(uploadOf(graphite, STATSD_UDP_SERVER_PATH), statsdUdpServerJs());
    const off = one(await runProgram("graphite", { topology: "graphite", statsdReceiveBuffer: "0" }), CONTAINER, "pipeline-graphite");
    assert.deepEqual(servers(off), [{ server: "./servers/udp", address: "0.0.0.0", port: 8125 }]);
  });
});

describe("the secret-leak check", () => {
  it("finds a secret in a plain field of a resource that also has it as a secret input", () => {
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "s3cret" };
    const inputs = { env: { PASSWORD: secret }, labels: { note: "pw=s3cret" } };
    assert.deepEqual(plainStrings(inputs), [["labels.note", "pw=s3cret"]]);
    const resource = { type: "t", name: "n", plainStrings: plainStrings(inputs) } as unknown as CapturedResource;
    assert.deepEqual(plainOccurrences({ resources: [resource] }, "s3cret"), ["t::n at labels.note"]);
  });
});
