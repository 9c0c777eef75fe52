// Stand-in default (STATSD_INTERFACE=udp): statsd settings of graphiteapp/graphite-statsd:1.1.10-5 (values only).
// StatsD on UDP 8125, flushed every 10 s to carbon-cache's plaintext port on this host.
{
  graphiteHost: "127.0.0.1",
  graphitePort: 2003,
  port: 8125,
  flushInterval: 10000,
  servers: [{ server: "./servers/udp", address: "0.0.0.0", port: 8125 }]
}
