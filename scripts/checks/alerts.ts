/**
 * What the alert tests observe: Alertmanager's API (which alerts it holds, and which it mutes), the notifications a
 * webhook receiver got, and a load that runs until stopped (failing or healthy) to make an alert fire and resolve.
 */
import { waitFor } from "../../app/src/tools/wait";
import { getJson } from "./backends";

const TIMEOUT_MS = 10_000;

/** One alert as Alertmanager's API v2 lists it. */
export interface ManagedAlert {
  readonly labels: Record<string, string>;
  readonly fingerprint: string;
  /** When Alertmanager resolves it unless Prometheus sends it again (Prometheus resends while it fires). */
  readonly endsAt: string;
  readonly status: { readonly state: "active" | "suppressed" | "unprocessed"; readonly inhibitedBy: string[]; readonly silencedBy: string[] };
}

export class AlertmanagerApi {
  constructor(readonly baseUrl: string) {}

  /** Every alert Alertmanager holds, active, inhibited and silenced ones included. */
  alerts(): Promise<ManagedAlert[]> {
    return getJson<ManagedAlert[]>(`${this.baseUrl.replace(/\/+$/, "")}/api/v2/alerts`);
  }

  async ready(): Promise<boolean> {
    return (await fetch(`${this.baseUrl.replace(/\/+$/, "")}/-/ready`, { signal: AbortSignal.timeout(TIMEOUT_MS) })).ok;
  }
}

/** The webhook JSON Alertmanager POSTs (version 4) and Grafana's webhook contact point extends. */
export interface WebhookNotification {
  readonly status: "firing" | "resolved";
  readonly receiver: string;
  readonly groupLabels: Record<string, string>;
  readonly alerts: ReadonlyArray<{
    readonly status: "firing" | "resolved";
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
  }>;
}

/** A notification as the test receiver (test/support/webhook-receiver.ts) recorded it. */
export interface Received {
  readonly receivedAt: number;
  readonly tokenOk: boolean;
  readonly body: WebhookNotification;
}

export async function receivedNotifications(receiverUrl: string): Promise<Received[]> {
  return getJson<Received[]>(`${receiverUrl.replace(/\/+$/, "")}/received`);
}

/** Whether a notification says `alertname` is in `status` (a group can carry several alerts). */
export function notifies(n: Received, alertname: string, status: "firing" | "resolved"): boolean {
  return n.body.alerts.some((a) => a.labels.alertname === alertname && a.status === status);
}

/**
 * The first notification, among those after `sinceMs`, saying `alertname` is in `status`; undefined if none came
 * within `timeoutMs`.
 */
export async function waitForNotification(
  receiverUrl: string,
  alertname: string,
  status: "firing" | "resolved",
  sinceMs: number,
  timeoutMs: number,
): Promise<Received | undefined> {
  let found: Received | undefined;
  await waitFor(
    async () => {
      found = (await receivedNotifications(receiverUrl)).find((n) => n.receivedAt >= sinceMs && notifies(n, alertname, status));
      return found !== undefined;
    },
    timeoutMs,
    1000,
  );
  return found;
}

/** A load that runs until stopped: `vus` loops each GETting `path` one request after another. */
export class RunningLoad {
  private stopped = false;
  private readonly loops: Promise<void>[];
  /** Responses by status; 0 counts transport failures. */
  readonly statuses = new Map<number, number>();
  /** Epoch milliseconds of the first 5xx answer, if any. */
  firstServerErrorAt: number | undefined;

  constructor(apiUrl: string, path: string, vus: number) {
    const url = `${apiUrl.replace(/\/+$/, "")}${path}`;
    this.loops = Array.from({ length: vus }, async () => {
      while (!this.stopped) {
        let status = 0;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          // A transport failure: counted as status 0, and the loop goes on (the app may be restarting).
          await new Promise((r) => setTimeout(r, 100));
        }
        if (status >= 500 && this.firstServerErrorAt === undefined) this.firstServerErrorAt = Date.now();
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      }
    });
  }

  /** Stops every loop after its request in flight; returns the responses by status. */
  async stop(): Promise<Map<number, number>> {
    this.stopped = true;
    await Promise.all(this.loops);
    return this.statuses;
  }

  get total(): number {
    return [...this.statuses.values()].reduce((a, b) => a + b, 0);
  }
}
