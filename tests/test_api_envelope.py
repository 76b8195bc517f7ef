"""parse_envelope reads each response's body once."""

from __future__ import annotations

import gc
import json
import weakref

import pytest
from scrapy.http import Response, TextResponse

from xhs_spider.api import envelope as envelope_module
from xhs_spider.api.envelope import InvalidBody, is_billed, parse_envelope


def answer(code: int, data: object = None) -> TextResponse:
    body = json.dumps({"code": code, "data": data, "requestId": "r"}).encode()
    return TextResponse("https://api.example/x", body=body, encoding="utf-8")


def test_every_reader_of_one_response_gets_the_same_envelope(monkeypatch):
    reads = []
    real = envelope_module._body_json
    monkeypatch.setattr(envelope_module, "_body_json", lambda r: reads.append(r) or real(r))
    response = answer(0, [{"id": "a"}])
    first = parse_envelope(response)
    assert is_billed(response)
    assert parse_envelope(response) is first
    assert reads == [response]


def test_a_replaced_copy_is_read_afresh():
    response = answer(0, [1])
    assert parse_envelope(response).code == 0
    copy = response.replace(body=b'{"code":302}')
    assert parse_envelope(copy).code == 302
    assert parse_envelope(response).code == 0


def test_a_plain_response_is_cached_too_and_not_kept_alive():
    response = Response("https://api.example/x", body=b'{"code":201}')
    assert parse_envelope(response) is parse_envelope(response)
    alive = weakref.ref(response)
    del response
    gc.collect()
    assert alive() is None


def test_an_invalid_body_stays_invalid_on_every_call():
    response = TextResponse("https://api.example/x", body=b"<html>", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InvalidBody):
            parse_envelope(response)
