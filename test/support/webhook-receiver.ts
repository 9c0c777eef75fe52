/**
 * A TEST-ONLY webhook receiver: what a team's alert endpoint would be. It records every POST to /hook with the time
 * it arrived and whether it carried the expected token (?token=TOKEN), and lists them on GET /received.
 *
 * Self-contained (node: modules and erasable TypeScript only), so that Node 22 runs this one file as it is: as a
 * child process in the local tests, and in a container or pod (node:22-bookworm-slim) beside a deployed stack.
 * Environment: HOST (default 0.0.0.0), PORT (default 8080), TOKEN (required).
 */
import http from "node:http";

interface Received {
  /** Epoch milliseconds when the notification arrived. */
  readonly receivedAt: number;
  readonly tokenOk: boolean;
  readonly body: unknown;
}

const token = process.env.TOKEN ?? "";
if (token === "") {
  console.error("webhook-receiver: TOKEN is not set");
  process.exit(2);
}
const received: Received[] = [];
/** Bounded: a misrouted flood must not grow the test's memory without end. */
const MAX_KEPT = 1000;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://receiver");
  if (req.method === "GET" && url.pathname === "/received") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(received));
    return;
  }
  if (req.method !== "POST" || url.pathname !== "/hook") {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = { unparsable: Buffer.concat(chunks).toString("utf8").slice(0, 2000) };
    }
    const tokenOk = url.searchParams.get("token") === token;
    if (received.length < MAX_KEPT) received.push({ receivedAt: Date.now(), tokenOk, body });
    console.log(`webhook-receiver: POST /hook token ${tokenOk ? "ok" : "WRONG"}`);
    res.writeHead(tokenOk ? 200 : 403).end();
  });
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "0.0.0.0", () => {
  console.log(`webhook-receiver: listening on ${process.env.HOST ?? "0.0.0.0"}:${process.env.PORT ?? 8080}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
