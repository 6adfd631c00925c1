"""The OpenAI-compatible back-end against a loopback test server, and the response cache."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from superpose.core.errors import SuperposeError
from superpose.llm.clients import ChatClient, DiskCache, LLMError
from superpose.llm.clients.openai_compatible import OpenAICompatibleClient

KEY = "sk-test-secret-key-123"


class FakeServer:
    """Serves /v1/chat/completions; ``script`` is a list of behaviours, one per request."""

    def __init__(self):
        self.script: list[str] = []
        self.requests: list[dict] = []
        self.auth: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.auth.append(self.headers.get("Authorization", ""))
                action = outer.script.pop(0) if outer.script else "ok"
                if action == "500":
                    self._send(500, b'{"error": {"message": "overloaded"}}')
                elif action == "401":
                    self._send(401, b'{"error": {"message": "bad key"}}')
                elif action == "slow":
                    time.sleep(1.5)
                    self._send(200, self._ok(body))
                elif action == "malformed":
                    self._send(200, b'{"choices": [{"nothing": 1}')
                elif action == "judge":  # a 0/1 list with the top logprobs of each token
                    self._send(200, self._judged(body))
                elif action == "no-content":
                    self._send(200, json.dumps({"id": "x", "object": "chat.completion",
                                                "created": 0, "model": body["model"],
                                                "choices": []}).encode())
                else:
                    self._send(200, self._ok(body))

            def _ok(self, body):
                text = "echo: " + body["messages"][-1]["content"]
                return json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                }).encode()

            def _judged(self, body):
                def entry(token, top):
                    return {"token": token, "logprob": max(top.values()), "bytes": None,
                            "top_logprobs": [{"token": t, "logprob": lp, "bytes": None}
                                             for t, lp in top.items()]}
                tokens = [entry("[", {"[": 0.0}), entry("1", {"1": -0.2, "0": -1.7}),
                          entry(",", {",": 0.0}), entry("0", {"0": -0.1, "1": -2.4}),
                          entry("]", {"]": 0.0})]
                return json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "usage": {"prompt_tokens": 321, "completion_tokens": 5, "total_tokens": 326},
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "[1,0]"},
                                 "logprobs": {"content": tokens}}]}).encode()

            def _send(self, code, payload):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    srv = FakeServer()
    yield srv
    srv.httpd.shutdown()


def _client(server, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5.0)
    return OpenAICompatibleClient("test-model", server.url, **kw)


MSG = [{"role": "user", "content": "hello"}]


def test_success_sends_model_messages_and_key_in_header(server):
    assert _client(server).complete(MSG, max_tokens=7) == "echo: hello"
    assert server.requests[0]["model"] == "test-model"
    assert server.requests[0]["max_tokens"] == 7
    assert server.auth[0] == f"Bearer {KEY}"


def test_retry_after_transient_error(server):
    server.script = ["500", "500", "ok"]
    assert _client(server, max_retries=3).complete(MSG) == "echo: hello"
    assert len(server.requests) == 3


def test_gives_up_after_retries_and_does_not_retry_auth_errors(server):
    server.script = ["500"] * 5
    with pytest.raises(LLMError, match="after 3 attempt"):
        _client(server, max_retries=2).complete(MSG)
    server.requests.clear()
    server.script = ["401"]
    with pytest.raises(LLMError) as err:
        _client(server, max_retries=3).complete(MSG)
    assert len(server.requests) == 1 and KEY not in str(err.value)


def test_timeout(server):
    server.script = ["slow", "slow"]
    start = time.monotonic()
    with pytest.raises(LLMError, match="Timeout"):
        _client(server, timeout=0.3, max_retries=1).complete(MSG)
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("action", ["malformed", "no-content"])
def test_malformed_reply_is_a_clear_error(server, action):
    server.script = [action]
    with pytest.raises(LLMError, match="(?i)malformed|json|decode"):
        _client(server, max_retries=0).complete(MSG)


def test_a_200_whose_body_is_not_the_promised_json_is_retried_like_a_5xx(server):
    server.script = ["malformed", "no-content", "ok"]
    assert _client(server, max_retries=3).complete(MSG) == "echo: hello"
    assert len(server.requests) == 3
    server.requests.clear()
    server.script = ["malformed"] * 3
    with pytest.raises(LLMError, match="after 3 attempt"):
        _client(server, max_retries=2).complete(MSG)


def test_server_judge_reads_answers_and_probabilities_and_caches_them(server, tmp_path):
    import numpy as np

    from superpose.llm.scorers.classifier import DETECTION, ServerJudge

    judge = ServerJudge(_client(server, cache=DiskCache(tmp_path / "cache")))
    server.script = ["malformed", "judge"]
    verdict = judge.verdict(DETECTION, "fire words", ["a fire", "calm water"])
    p1, p0 = np.exp(-0.2), np.exp(-1.7)
    assert verdict.probabilities == pytest.approx([p1 / (p1 + p0), np.exp(-2.4) / (np.exp(-2.4) + np.exp(-0.1))])
    assert verdict.prompt_tokens == 321 and len(server.requests) == 2
    assert server.requests[-1]["logprobs"] is True and server.requests[-1]["top_logprobs"] == 5
    again = judge.verdict(DETECTION, "fire words", ["a fire", "calm water"])
    assert again.probabilities == verdict.probabilities and len(server.requests) == 2 and again.cached
    server.script = ["ok"]  # a reply that is no list: no answers, counted as failed
    assert judge.verdict(DETECTION, "other", ["x"]).probabilities == [None]


def test_unreachable_server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = OpenAICompatibleClient("m", "http://127.0.0.1:9/v1", max_retries=1, backoff=0.01,
                                    timeout=1)
    with pytest.raises(LLMError, match="failed after 2 attempt"):
        client.complete(MSG)


def test_missing_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SuperposeError, match="OPENAI_API_KEY"):
        OpenAICompatibleClient("m", "http://127.0.0.1:9/v1")


def test_cache_hits_cost_no_request_and_never_store_the_key(server, tmp_path):
    cache = DiskCache(tmp_path / "cache")
    client = _client(server, cache=cache)
    assert client.complete(MSG) == "echo: hello"
    assert client.complete(MSG) == "echo: hello"
    assert len(server.requests) == 1 and cache.hits == 1
    other = _client(server, cache=DiskCache(tmp_path / "cache"))
    assert other.complete(MSG) == "echo: hello" and len(server.requests) == 1
    other.complete(MSG, max_tokens=5)  # a different request is a miss
    assert len(server.requests) == 2
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text()


def test_concurrent_requests_keep_order_and_report_failures_in_place(server):
    server.script = ["ok", "401", "ok", "ok"]
    client = _client(server, concurrency=1, max_retries=0)
    convs = [[{"role": "user", "content": str(i)}] for i in range(4)]
    out = client.complete_many(convs)
    assert out[0] == "echo: 0" and isinstance(out[1], LLMError) and out[2] == "echo: 2"
    fast = _client(server, concurrency=4)
    assert fast.complete_many(convs) == [f"echo: {i}" for i in range(4)]


def test_disk_cache_key_depends_on_model_and_request(tmp_path):
    class Counting(ChatClient):
        name = "counting"
        calls = 0

        def _complete(self, request):
            Counting.calls += 1
            return "r"

    cache = DiskCache(tmp_path)
    client = Counting(cache)
    client.complete(MSG)
    client.complete(MSG)
    assert Counting.calls == 1
    assert DiskCache.key("a", {"x": 1}) != DiskCache.key("b", {"x": 1})
