// Stand-in default (STATSD_INTERFACE=tcp): as udp.js, but statsd listens on TCP 8125 (values only).
{
  graphiteHost: "127.0.0.1",
  graphitePort: 2003,
  port: 8125,
  flushInterval: 10000,
  servers: [{ server: "./servers/tcp", address: "0.0.0.0", port: 8125 }]
}
