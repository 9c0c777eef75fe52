/**
 * jsocol's pystatsd, as Debian packages it (`python3-statsd` 4.0.1): the plain StatsD client a team's Python service
 * would use, one datagram per call. It sends a team's own metrics in the local tier's tests. Debian installs it for
 * Debian's interpreter only, so it runs under /usr/bin/python3, not the first python3 on PATH. Like
 * {@link requireBinary}: missing, or of another version, it skips the test on a laptop and fails it under CI.
 */
import { spawnSync } from "node:child_process";
import { underCi } from "./binaries";
import { mustRun } from "./processes";

const DEBIAN_PYTHON = "/usr/bin/python3";
export const PYSTATSD_VERSION = "4.0.1";
const INSTALL = "apt-get install python3-statsd";

/** A skip reason for `describe(..., { skip })`, or false when pystatsd 4.0.1 imports; throws under CI when it does not. */
export function requirePystatsd(): string | false {
  const run = spawnSync(DEBIAN_PYTHON, ["-c", "import statsd; print(statsd.__version__)"], { encoding: "utf8", timeout: 20_000 });
  const version = (run.stdout ?? "").trim();
  if (run.status === 0 && version === PYSTATSD_VERSION) return false;
  const found = run.error
    ? `${DEBIAN_PYTHON} not found`
    : run.status === 0
      ? `pystatsd ${version} found, not ${PYSTATSD_VERSION}`
      : `pystatsd not importable by ${DEBIAN_PYTHON} (${(run.stderr ?? "").trim().split("\n").at(-1)})`;
  const reason = `${found} (install: ${INSTALL})`;
  if (underCi()) throw new Error(`CI=${process.env.CI} and ${reason}`);
  return reason;
}

/** One call of pystatsd's `StatsClient`, by its Python name: positional arguments, then keyword arguments. */
export type PystatsdCall =
  | readonly ["incr" | "decr", stat: string, count?: number, rate?: number]
  | readonly ["gauge", stat: string, value: number, options?: { readonly delta?: boolean; readonly rate?: number }]
  | readonly ["set", stat: string, value: string]
  | readonly ["timing", stat: string, ms: number, rate?: number];

/**
 * Runs the calls on one `StatsClient(host, port, prefix)` in order and returns the datagrams it sent. A sampled call
 * (rate < 1) is sent when the client's random draw falls below the rate: the draw is fixed at 0, so every sampled
 * call goes out (with its `|@rate`) and what statsd receives is known exactly.
 */
const DRIVER = `
import json, random, sys
import statsd
random.random = lambda: 0.0
port, prefix, calls = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
client = statsd.StatsClient("127.0.0.1", port, prefix=prefix or None)
sent = []
send = client._send
def recorded(data):
    sent.append(data)
    send(data)
client._send = recorded
for name, *args in calls:
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    getattr(client, name)(*args, **kwargs)
client.close()
print(json.dumps(sent))
`;

export async function sendWithPystatsd(port: number, prefix: string, calls: readonly PystatsdCall[]): Promise<string[]> {
  const out = await mustRun(DEBIAN_PYTHON, ["-c", DRIVER, String(port), prefix, JSON.stringify(calls)], { timeoutMs: 30_000 });
  return JSON.parse(out) as string[];
}
