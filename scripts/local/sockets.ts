/** What the kernel holds for a UDP socket, as `ss` reads it. */
import { execFileSync } from "node:child_process";

/**
 * The receive buffer (`rb` of `ss -m`: twice the size a socket asked for and was granted, or `rmem_default` as it is
 * for one that asked for nothing) of the UDP socket bound to `port`; in the network namespace of process `pid` (via
 * nsenter, as root) when given, else this one's. Undefined when no such socket is listed.
 */
export function udpReceiveBuffer(port: number, pid?: string): number | undefined {
  const ss = ["ss", "-u", "-l", "-n", "-m", `sport = :${port}`];
  const out = pid === undefined ? execFileSync(ss[0]!, ss.slice(1), { encoding: "utf8" }) : execFileSync("nsenter", ["-t", pid, "-n", ...ss], { encoding: "utf8" });
  const rb = /\brb(\d+)\b/.exec(out);
  return rb ? Number(rb[1]) : undefined;
}
