"""A team's own metrics, sent by the Python `datadog` package's DogStatsd client (not the sample API's hot-shots).

Usage: dogstatsd-own-metrics.py PORT [PORT ...]. Makes the same calls against each 127.0.0.1:PORT and prints JSON:
the client's version, and for each port how many datagrams the client sent (one per call it did not sample out: it
does not buffer by default) and how many of the sampled calls it let through. The client drops a sampled call when
Python's global `random()` draws above the rate, so the draws are seeded before the sampled calls and replayed
afterwards to count them.
"""
import json
import random as random_module
import sys
from random import random

import datadog
from datadog.dogstatsd import DogStatsd

SEED = 16
SAMPLED_COUNTER_CALLS = 20
COUNTER_RATE = 0.25
SAMPLED_HISTOGRAM_CALLS = 8
HISTOGRAM_RATE = 0.5

# Each entry sends one datagram.
UNSAMPLED_CALLS = [
    *[lambda c: c.increment("checkout.orders", 2, tags=["team:payments", "region:eu"])] * 3,
    lambda c: c.gauge("checkout.queue_depth", 10),
    lambda c: c.gauge("checkout.queue_depth", "+5"),
    # The client sends -3 as is: to a StatsD daemon a signed gauge value is a change, not a value.
    lambda c: c.gauge("checkout.queue_depth", -3),
    lambda c: c.set("checkout.unique_users", "alice"),
    lambda c: c.set("checkout.unique_users", 42),
    lambda c: c.timing("checkout.db_query", 250),
    lambda c: c.timing("checkout.db_query", 750),
    *[lambda c, size=size: c.histogram("checkout.payload_bytes", size, tags=["team:payments"]) for size in (512, 1500, 70000)],
    *[lambda c, items=items: c.distribution("checkout.cart_items", items) for items in (1, 3, 12)],
    # A tag without a value: DogStatsD allows it, statsd_exporter needs name:value.
    lambda c: c.increment("checkout.logins", tags=["canary", "region:eu"]),
    # The sample API's own timer, under its catalog name, as any client may send it.
    lambda c: c.timing(
        "sample_api.http_request_duration_ms", 250, tags=["route:/", "method:GET", "status:200", "app_name:own-metrics"]
    ),
]


def send(port):
    # Telemetry off: the client would add its own counters after 10 s, so what arrives would depend on timing. Origin
    # detection off: inside a container the client would add its container's ID (`|c:`) to every line, so what
    # arrives would depend on where the test runs; the container ID is sent once below, given.
    client = DogStatsd(host="127.0.0.1", port=port, disable_telemetry=True, origin_detection_enabled=False)
    random_module.seed(SEED)
    for _ in range(SAMPLED_COUNTER_CALLS):
        client.increment("checkout.retries", sample_rate=COUNTER_RATE)
    for _ in range(SAMPLED_HISTOGRAM_CALLS):
        client.histogram("checkout.batch_size", 8, sample_rate=HISTOGRAM_RATE)
    for call in UNSAMPLED_CALLS:
        call(client)
    client.flush()
    client.close_socket()
    # What the client sends on its defaults from inside a container (detected there, given here): an untagged line,
    # then a tagged one.
    in_container = DogStatsd(host="127.0.0.1", port=port, disable_telemetry=True, container_id="ci-3f2a9c")
    in_container.increment("checkout.jobs")
    in_container.increment("checkout.workers", tags=["team:payments"])
    in_container.close_socket()
    random_module.seed(SEED)
    sampled_counter = sum(random() <= COUNTER_RATE for _ in range(SAMPLED_COUNTER_CALLS))
    sampled_histogram = sum(random() <= HISTOGRAM_RATE for _ in range(SAMPLED_HISTOGRAM_CALLS))
    return {
        "datagrams": len(UNSAMPLED_CALLS) + 2 + sampled_counter + sampled_histogram,
        "sampledCounter": sampled_counter,
        "sampledHistogram": sampled_histogram,
    }


if __name__ == "__main__":
    ports = [int(p) for p in sys.argv[1:]]
    print(json.dumps({"datadog": datadog.__version__, "sent": {str(p): send(p) for p in ports}}))
