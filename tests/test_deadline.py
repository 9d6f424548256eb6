"""A total deadline per HTTP attempt: a server that drips one byte a second cannot hold a request for ever.

The read timeout alone never fires there (every read gets a byte within it); the client checks the time left
before every read and bounds each read by it. Real loopback HTTP.
"""

from __future__ import annotations

import time

import pytest

from assets.kosis_client import KosisClient, KosisError
from pipelines.resources import KosisResource
from tests.kosis_server import KosisServer, make_generated_table

KEY = "deadline-key-1234"
TOTAL = 1.5
SLACK = 2.0


@pytest.fixture
def server():
    table = make_generated_table("DT_DRIP", n_regions=3, n_classes=2, n_items=1, periods=["2019", "2020"], seed=4)
    with KosisServer([table], api_key=KEY) as srv:
        yield srv


def fetch(client: KosisClient):
    return client.get_data("101", "DT_DRIP", obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="2019",
                           end="2020")


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_dripping_server_ends_within_the_total_timeout_times_attempts(server, max_retries) -> None:
    server.inject("drip", times=10, seconds=1.0)
    client = KosisClient(server.base_url, KEY, timeout=5.0, total_timeout=TOTAL, max_retries=max_retries,
                         sleep=lambda s: None)
    started = time.monotonic()
    with client, pytest.raises(KosisError) as err:
        fetch(client)
    elapsed = time.monotonic() - started
    attempts = max_retries + 1
    assert elapsed < TOTAL * attempts + SLACK, elapsed
    assert elapsed >= TOTAL * attempts - 0.1, elapsed  # each attempt really waited until its deadline
    assert "total timeout" in str(err.value) and "DT_DRIP" in str(err.value)
    assert f"{attempts} attempt(s)" in str(err.value)
    assert KEY not in str(err.value)


def test_a_deadline_hit_is_transient_and_the_next_attempt_succeeds(server) -> None:
    server.inject("drip", times=1, seconds=1.0)
    with KosisClient(server.base_url, KEY, timeout=5.0, total_timeout=TOTAL, max_retries=2,
                     sleep=lambda s: None) as client:
        started = time.monotonic()
        (body,) = fetch(client)
    assert body.n_records == 3 * 2 * 2
    assert time.monotonic() - started < TOTAL + SLACK


def test_a_slow_but_steady_body_within_the_deadline_is_read_whole(server) -> None:
    server.inject("slow", times=1, seconds=0.5)
    with KosisClient(server.base_url, KEY, total_timeout=TOTAL, max_retries=0) as client:
        (body,) = fetch(client)
    assert body.n_records == 12


def test_the_resource_passes_total_timeout_to_the_client(server) -> None:
    resource = KosisResource(api_key=KEY, base_url=server.base_url, total_timeout_s=TOTAL, max_retries=0,
                             backoff_base_s=0.01)
    server.inject("drip", times=1, seconds=1.0)
    started = time.monotonic()
    with resource.client() as client, pytest.raises(KosisError):
        fetch(client)
    assert time.monotonic() - started < TOTAL + SLACK
