/**
 * The exporter topology's alerting, end to end, as one scenario in three phases that the local and the deployment
 * tiers run alike (each on its own stack):
 *
 * 1. a failing load (only `/random_status`, which answers 5xx to 1 request in 10) until AppHighServerErrorRatio
 *    fires and the webhook receiver gets the notification;
 * 2. statsd_exporter stopped: StatsdExporterDown fires and is notified, and the service alert it explains, still
 *    firing in Prometheus (its 5-minute rate keeps the samples from before), is inhibited in Alertmanager;
 * 3. statsd_exporter back and a healthy load (only `/`): both alerts resolve, and the receiver gets the resolved
 *    notifications.
 *
 * The stack must run with {@link SCENARIO_CONFIG}'s short `for` and routing timers, and send to the receiver.
 */
import { waitFor } from "../../app/src/tools/wait";
import { DEFAULT_ALERT_ROUTING, type AlertRouting } from "../../pipeline/alertmanager";
import { DEFAULT_ALERT_THRESHOLDS, type AlertThresholds } from "../../pipeline/rules";
import { AlertmanagerApi, receivedNotifications, RunningLoad, waitForNotification, type ManagedAlert, type Received } from "../../scripts/checks/alerts";
import { getJson } from "../../scripts/checks/backends";

/** The stack config the scenario needs: the default threshold (5 %), but `for`s and timers that fit in a test. */
export const SCENARIO_THRESHOLDS: AlertThresholds = { ...DEFAULT_ALERT_THRESHOLDS, serverErrorFor: "15s", exporterDownFor: "15s" };
export const SCENARIO_ROUTING: AlertRouting = { ...DEFAULT_ALERT_ROUTING, groupWait: "1s", groupInterval: "5s" };
/** The same as stack config keys. */
export const SCENARIO_CONFIG: Readonly<Record<string, string>> = {
  alertServerErrorFor: SCENARIO_THRESHOLDS.serverErrorFor,
  alertExporterDownFor: SCENARIO_THRESHOLDS.exporterDownFor,
  alertGroupWait: SCENARIO_ROUTING.groupWait,
  alertGroupInterval: SCENARIO_ROUTING.groupInterval,
};

/**
 * Bounds for a loaded 2-core machine: each phase needs about `for` + two scrapes + an evaluation + the group wait
 * (about 30 s), and these allow several times that.
 */
export const PHASE_TIMEOUT_MS = { fires: 240_000, exporterDown: 300_000, resolves: 300_000 } as const;

const SERVICE_ALERT = "AppHighServerErrorRatio";
const PIPELINE_ALERT = "StatsdExporterDown";

export interface ScenarioUrls {
  readonly apiUrl: string;
  readonly alertmanagerUrl: string;
  /** The test's webhook receiver, as this machine reaches it (its GET /received). */
  readonly receiverUrl: string;
  /** Prometheus, whose view of the alerts {@link AlertScenario.describeState} prints when a phase fails. */
  readonly prometheusUrl: string;
}

export class AlertScenario {
  private load: RunningLoad | undefined;
  readonly alertmanager: AlertmanagerApi;

  constructor(readonly urls: ScenarioUrls) {
    this.alertmanager = new AlertmanagerApi(urls.alertmanagerUrl);
  }

  /** Phase 1: the failing load until the firing notification. */
  async failingLoadFires(): Promise<{ notification: Received | undefined; secondsFromFirstError: number | undefined; load: RunningLoad }> {
    const since = Date.now();
    this.load = new RunningLoad(this.urls.apiUrl, "/random_status", 4);
    const notification = await waitForNotification(this.urls.receiverUrl, SERVICE_ALERT, "firing", since, PHASE_TIMEOUT_MS.fires);
    const first = this.load.firstServerErrorAt;
    return {
      notification,
      secondsFromFirstError: notification && first !== undefined ? (notification.receivedAt - first) / 1000 : undefined,
      load: this.load,
    };
  }

  /**
   * Phase 2: `stopExporter`, then wait for StatsdExporterDown's notification and for Alertmanager to show the service
   * alert suppressed by it. The failing load goes on meanwhile (its events are lost: the exporter is down).
   */
  async exporterDownInhibits(stopExporter: () => Promise<void>): Promise<{
    notification: Received | undefined;
    /** The service alert as Alertmanager holds it once inhibited, and the pipeline alert that inhibits it. */
    inhibited: ManagedAlert | undefined;
    inhibitor: ManagedAlert | undefined;
  }> {
    const since = Date.now();
    await stopExporter();
    const notification = await waitForNotification(this.urls.receiverUrl, PIPELINE_ALERT, "firing", since, PHASE_TIMEOUT_MS.exporterDown);
    let inhibited: ManagedAlert | undefined;
    let inhibitor: ManagedAlert | undefined;
    await waitFor(
      async () => {
        const alerts = await this.alertmanager.alerts();
        inhibitor = alerts.find((a) => a.labels.alertname === PIPELINE_ALERT);
        inhibited = alerts.find((a) => a.labels.alertname === SERVICE_ALERT && a.status.state === "suppressed" && a.status.inhibitedBy.length > 0);
        return inhibitor !== undefined && inhibited !== undefined;
      },
      60_000,
      1000,
    );
    return { notification, inhibited, inhibitor };
  }

  /**
   * Phase 3: `startExporter`, the load turned healthy, until both alerts' resolved notifications came; the load is
   * stopped at the end.
   */
  async healthyLoadResolves(
    startExporter: () => Promise<void>,
  ): Promise<{ service: Received | undefined; pipeline: Received | undefined; /** {@link describeState} when one did not come. */ state: string }> {
    const since = Date.now();
    await this.load?.stop();
    await startExporter();
    // Enough healthy requests dilute the 5-minute error ratio under the threshold well before the failing ones age out.
    this.load = new RunningLoad(this.urls.apiUrl, "/", 8);
    const [service, pipeline] = await Promise.all([
      waitForNotification(this.urls.receiverUrl, SERVICE_ALERT, "resolved", since, PHASE_TIMEOUT_MS.resolves),
      waitForNotification(this.urls.receiverUrl, PIPELINE_ALERT, "resolved", since, PHASE_TIMEOUT_MS.resolves),
    ]);
    const state = service && pipeline ? "" : await this.describeState();
    await this.stop();
    return { service, pipeline, state };
  }

  /**
   * What each part of the alerting path holds now, for a failed phase's message: the alerts Prometheus evaluates,
   * the alerts Alertmanager holds (with their state and end), and every notification the receiver got.
   */
  async describeState(): Promise<string> {
    const part = async (title: string, read: () => Promise<unknown>) => {
      try {
        return `${title}: ${JSON.stringify(await read())}`;
      } catch (error) {
        return `${title}: unreadable (${(error as Error).message})`;
      }
    };
    return (
      await Promise.all([
        part("Prometheus alerts", async () =>
          (await getJson<{ data: { alerts: Array<{ labels: Record<string, string>; state: string; activeAt: string }> } }>(`${this.urls.prometheusUrl}/api/v1/alerts`)).data.alerts.map(
            (a) => [a.labels.alertname, a.state, a.activeAt],
          ),
        ),
        part("Alertmanager alerts", async () =>
          (await this.alertmanager.alerts()).map((a) => [a.labels.alertname, a.status.state, a.endsAt]),
        ),
        part("received", async () =>
          (await receivedNotifications(this.urls.receiverUrl)).map((n) => [new Date(n.receivedAt).toISOString(), n.body.status, n.body.alerts.map((a) => `${a.labels.alertname}:${a.status}`)]),
        ),
        part("load statuses", async () => Object.fromEntries(this.load?.statuses ?? [])),
      ])
    ).join("\n");
  }

  async stop(): Promise<void> {
    await this.load?.stop();
    this.load = undefined;
  }
}
