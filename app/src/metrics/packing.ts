/**
 * Many values of one timer in few StatsD lines.
 *
 * Both servers the app talks to read several values of one key from one line, so a busy series costs a few bytes per
 * request instead of a whole line (name, tags and all):
 * - DogStatsD protocol 1.1 "extended aggregation", `name:v1:v2:v3|ms|#tags`: read by statsd_exporter (which turns it
 *   back into one event per value) and by the Datadog Agent since 7.25.
 * - Etsy statsd's multi-metric form, `name:v1|ms:v2|ms:v3|ms`: read by every statsd release since 0.x (stats.js
 *   splits a line on `:` and reads each part as its own sample).
 */
import type { MetricsStyle } from "./catalog";

/**
 * A timer value as sent: milliseconds rounded to the microsecond, shortest form, never in exponent notation. The same
 * text as `String(Math.round(ms * 1000) / 1000)`, built from integers because printing a fraction is the slowest step
 * of sending a latency. Durations are never negative; a negative input is sent as 0.
 */
export function formatMilliseconds(ms: number): string {
  const micros = ms > 0 ? Math.round(ms * 1000) : 0;
  const whole = Math.floor(micros / 1000);
  const fraction = micros - whole * 1000;
  if (fraction === 0) return String(whole);
  if (fraction % 100 === 0) return `${whole}.${fraction / 100}`;
  if (fraction % 10 === 0) return `${whole}.${fraction < 100 ? "0" : ""}${fraction / 10}`;
  return `${whole}.${fraction < 10 ? "00" : fraction < 100 ? "0" : ""}${fraction}`;
}

/**
 * The lines that carry `values` for the timer `name` (tags are not included: the client appends them). Each line's
 * values part stays within `maxValueBytes`, so a line plus its name and tags fits one datagram.
 */
export function packTimerLines(
  name: string,
  values: Iterable<number>,
  style: MetricsStyle,
  maxValueBytes: number,
): string[] {
  const separator = style === "dogstatsd" ? ":" : "|ms:";
  const lines: string[] = [];
  let packed = "";
  for (const value of values) {
    const text = formatMilliseconds(value);
    if (packed !== "" && packed.length + separator.length + text.length > maxValueBytes) {
      lines.push(`${name}:${packed}|ms`);
      packed = "";
    }
    packed = packed === "" ? text : packed + separator + text;
  }
  if (packed !== "") lines.push(`${name}:${packed}|ms`);
  return lines;
}
