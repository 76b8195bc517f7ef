"""A MongoDB store that does not answer is said in a few words, its password masked."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from sandbox.process import free_port
from xhs_spider.store.base import StoreUnavailable
from xhs_spider.store.mongo import MongoNoteStore, connection_problem

TIMEOUTS = " (configured timeouts: socketTimeoutMS: 3000.0ms, connectTimeoutMS: 3000.0ms)"


def test_an_unreachable_server_is_its_address_and_why():
    store = MongoNoteStore(f"mongodb://reader:s3cret-pw@127.0.0.1:{free_port()}/xhs",
                           server_selection_timeout_ms=500)
    with pytest.raises(StoreUnavailable) as refused:
        store.open()

    message = str(refused.value)
    assert message.startswith(f"cannot open {store.display_uri}: 127.0.0.1:"), message
    assert message.endswith("Connection refused"), message
    for noise in ("s3cret-pw", "Timeout", "Topology", "configured timeouts", "Errno", "(", ")"):
        assert noise not in message


def test_each_server_s_error_is_said_once_without_pymongo_s_details():
    errors = [f"a:1: [Errno -2] Name or service not known{TIMEOUTS}",
              f"b:2: [Errno 111] Connection refused{TIMEOUTS}"]
    # pymongo's own wording: the servers' errors, then how long it waited and
    # the topology it saw (each error again, inside reprs).
    selection = ServerSelectionTimeoutError(
        ",".join(errors) + ", Timeout: 3.0s, Topology Description: <TopologyDescription id: 1, "
        f"servers: [<ServerDescription ('a', 1) error=AutoReconnect('{errors[0]}')>]>"
    )

    assert connection_problem(selection) == "a:1: Name or service not known; b:2: Connection refused"
    assert connection_problem(AutoReconnect(f"db:27017: timed out{TIMEOUTS}")) == "db:27017: timed out"
    assert connection_problem(ServerSelectionTimeoutError(
        "No primary available for writes, Timeout: 3.0s, Topology Description: <...>"
    )) == "No primary available for writes"
