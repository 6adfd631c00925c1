"""The all-at-once simulator on a loopback fake server that returns prompt logprobs."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from superpose.activations.formats import read_jsonl
from superpose.cli import main
from superpose.explainer.clients.openai_compatible import OpenAICompatibleClient
from superpose.explainer.simulators import SimulationError
from superpose.explainer.simulators.prompt_logprobs import PromptLogprobsSimulator, value_offsets
from tests.llm_helpers import make_records

PIECES = re.compile(r"\t|\n|[^\t\n]+")


def fake_logprobs(prompt: str, explanation_word: str = "alpha") -> list[tuple[int, str, dict]]:
    """(offset, token, top logprobs) per token of a whitespace-simple tokenizer: after a tab
    the "model" says 9 when the row's token is ``explanation_word`` (if the query's
    explanation names it) and 0 otherwise."""
    query = prompt.rsplit("Explanation: ", 1)[1].split("\n", 1)[0]
    out, prev = [], ""
    for m in PIECES.finditer(prompt):
        top = {"unknown": -0.1}
        if prev == "\t":
            row = prompt[:m.start() - 1].rsplit("\n", 1)[1]
            hit = explanation_word in query and row.strip() == explanation_word
            top.update({"9": -0.2, "0": -2.0} if hit else {"0": -0.05, "9": -4.0})
        out.append((m.start(), m.group(), top))
        prev = m.group()
    return out


class LogprobServer:
    """Serves /v1/completions in one of three styles: "echo" (llama.cpp, OpenAI legacy),
    "vllm" (prompt_logprobs keyed by token id) or "none" (drops the logprobs)."""

    def __init__(self, style: str = "echo"):
        self.style, self.requests = style, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                choice = {"index": 0, "text": body["prompt"] + " 0", "finish_reason": "length",
                          "logprobs": None}
                rows = fake_logprobs(body["prompt"])
                if outer.style == "echo":
                    choice["logprobs"] = {
                        "tokens": [t for _, t, _ in rows],
                        "token_logprobs": [None] + [-0.1] * (len(rows) - 1),
                        "top_logprobs": [None] + [top for _, _, top in rows[1:]],
                        "text_offset": [o for o, _, _ in rows]}
                elif outer.style == "vllm":
                    entries = [None]
                    for i, (_, token, top) in enumerate(rows[1:]):
                        entry = {str(1000 + i): {"logprob": -0.1, "rank": 1,
                                                 "decoded_token": token}}
                        entry.update({str(k): {"logprob": v, "rank": 2, "decoded_token": k}
                                      for k, v in top.items() if k != token})
                        entries.append(entry)
                    choice["prompt_logprobs"] = entries
                payload = json.dumps({"id": "c", "object": "text_completion", "created": 0,
                                      "model": body["model"], "choices": [choice]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def _serve(style):
    return LogprobServer(style)


def test_value_offsets_point_right_after_each_tab():
    text, offsets = value_offsets("x", [" a", "\n", " bb"])
    assert [text[o - 1] for o in offsets] == ["\t"] * 3
    assert all(text.startswith("unknown\n", o) for o in offsets)


@pytest.mark.parametrize("style", ["echo", "vllm"])
def test_server_prompt_logprobs_give_the_all_at_once_prediction(key, style):
    server = _serve(style)
    try:
        client = OpenAICompatibleClient("m", server.url, timeout=5, max_retries=0)
        sim = PromptLogprobsSimulator(client)
        got = sim.simulate("the word alpha", [[" alpha", " beta", " alpha"], [" beta"]])
        p9 = np.exp(-0.2) / (np.exp(-0.2) + np.exp(-2.0))
        hit = 10.0 * p9  # 9 of 9 rescaled to 10, times its probability
        p9_miss = np.exp(-4.0) / (np.exp(-4.0) + np.exp(-0.05))
        assert np.allclose(got[0], [hit, 10 * p9_miss, hit])
        assert np.allclose(got[1], [10 * p9_miss])
        request = server.requests[0]
        assert request["echo"] is True and request["max_tokens"] == 1 and request["logprobs"] == 20
        assert request["prompt_logprobs"] == 20
        assert "all-at-once" in sim.method and "FALLBACK" not in sim.method
    finally:
        server.httpd.shutdown()


def test_a_server_without_logprobs_is_a_clear_error_and_a_recorded_status(key, tmp_path,
                                                                          capsys):
    server = _serve("none")
    try:
        sim = PromptLogprobsSimulator(OpenAICompatibleClient("m", server.url, timeout=5,
                                                             max_retries=0))
        with pytest.raises(SimulationError, match="returned no prompt logprobs"):
            sim.simulate("x", [[" a"]])
        records = make_records(tmp_path / "rec")
        out = tmp_path / "s.jsonl"
        assert main(["score", "--records", str(records), "--explanation", "alpha", "--layer",
                     "0", "--neurons", "0-2", "--backend", "openai", "--model", "m",
                     "--base-url", server.url, "--out", str(out), "--no-embedding",
                     "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "2 of 3 score(s) ended in error" in err
        assert "no prompt logprobs" in err
        rows = {r["neuron"]: r["status"] for r in read_jsonl(out)}
        assert rows == {0: "error", 1: "error", 2: "dead"}
    finally:
        server.httpd.shutdown()


def test_score_cli_with_a_logprob_server_end_to_end(key, tmp_path):
    server = _serve("echo")
    try:
        records = make_records(tmp_path / "rec")
        out = tmp_path / "s.jsonl"
        assert main(["score", "--records", str(records), "--explanation", "the word alpha",
                     "--layer", "0", "--neurons", "0", "--backend", "openai", "--model", "m",
                     "--base-url", server.url, "--out", str(out), "--no-embedding",
                     "--no-progress", "--cache", str(tmp_path / "cache")]) == 0
        row = read_jsonl(out)[0]
        assert row["status"] == "ok" and row["scores"]["correlation"] > 0.99
        assert "prompt logprobs" in row["scores"]["simulator_method"]
    finally:
        server.httpd.shutdown()
