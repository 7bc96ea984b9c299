"""Knowledge base at 10,000 chunks, through a real Store service over gRPC.

- embedding throughput: MiniLM (numpy) on a sample of real-sized chunks;
- ingestion: chunks/s end to end (embed + AddDocuments) on that sample;
- store writes: AddDocuments of the 10,000-chunk base (vectors precomputed);
- query latency: embed the question + SearchDocuments (top 3) over 10,000 chunks.

    .venv/bin/python bench/brain/rag.py [--chunks 10000] [--sample 256]

Prints a table and writes bench/results/brain_rag.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np

from switchboard.domain import DocumentChunk
from switchboard.store_client import StoreClient
from switchboard_brain.rag.embedder import MiniLMEmbedder
from switchboard_brain.rag.knowledge import TextChunk
from switchboard_brain.rag.store_kb import StoreKnowledgeBase
from switchboard_cli.launcher import grpc_ready
from switchboard_testing.ports import free_tcp_port

WORDS = (
    "policy claim vehicle damage windshield towing agency hours deductible coverage payment "
    "refund contract renewal accident theft fire flood storm repair garage expert report "
    "invoice customer phone email address document deadline weekend holiday premium"
).split()


def text(rng: random.Random, words: int = 110) -> str:
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16)))
        sentences.append(sentence.capitalize() + ".")
    return " ".join(sentences)


async def bench(chunks: int, sample: int, address: str) -> dict[str, float]:
    rng = random.Random(7)
    store = StoreClient(address, timeout_sec=120)
    embedder = MiniLMEmbedder()
    kb = StoreKnowledgeBase(store, embedder)
    try:
        texts = [TextChunk(f"s{i}", "bench.md", "Bench", text(rng)) for i in range(sample)]
        started = time.perf_counter()
        vectors = embedder.embed([t.content for t in texts[:32]])
        for start in range(32, sample, 32):
            vectors = np.vstack(
                [vectors, embedder.embed([t.content for t in texts[start : start + 32]])]
            )
        embed_rate = sample / (time.perf_counter() - started)
        started = time.perf_counter()
        for start in range(0, sample, 64):
            await kb.add(texts[start : start + 64])
        ingest_rate = sample / (time.perf_counter() - started)
        # The 10,000-chunk base: sample vectors with noise (embedding all would only
        # repeat the throughput measured above, for minutes).
        started = time.perf_counter()
        for start in range(0, chunks, 1000):
            batch = []
            for i in range(start, min(chunks, start + 1000)):
                v = vectors[i % sample] + np.float32(0.05) * rng.random() * np.ones(384, np.float32)
                batch.append(
                    DocumentChunk(
                        id=f"c{i}",
                        source="bench.md",
                        title="Bench",
                        content=texts[i % sample].content,
                        embedding=(v / np.linalg.norm(v)).tolist(),
                    )
                )
            await store.add_documents(batch)
        write_rate = chunks / (time.perf_counter() - started)
        await kb.search("warm up the index", 3)
        latencies = []
        for _ in range(30):
            started = time.perf_counter()
            await kb.search(f"how long does a {rng.choice(WORDS)} {rng.choice(WORDS)} take", 3)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return {
        "chunks": chunks,
        "embed_chunks_per_sec": round(embed_rate, 1),
        "ingest_chunks_per_sec": round(ingest_rate, 1),
        "store_write_chunks_per_sec": round(write_rate, 1),
        "query_p50_ms": round(statistics.median(latencies), 1),
        "query_p95_ms": round(common.percentile(latencies, 95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        address = f"127.0.0.1:{free_tcp_port()}"
        env = {
            **os.environ,
            "SWITCHBOARD__SERVICES__STORE": address,
            "SWITCHBOARD__STORE__SQLITE_PATH": str(Path(tmp) / "kb.db"),
            "SWITCHBOARD_CONFIG": str(Path(tmp) / "none.yaml"),
        }
        with (Path(tmp) / "store.log").open("wb") as log:
            store = subprocess.Popen(
                [sys.executable, "-m", "switchboard_store"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 30
                while not grpc_ready(address):
                    if time.monotonic() > deadline or store.poll() is not None:
                        raise SystemExit("the store did not start")
                    time.sleep(0.1)
                results = asyncio.run(bench(args.chunks, args.sample, address))
            finally:
                store.terminate()
                store.wait(timeout=10)
    path = common.write("brain_rag", results)
    common.table([
        ("embedding (MiniLM, numpy)", f"{results['embed_chunks_per_sec']} chunks/s"),
        ("ingestion (embed + AddDocuments)", f"{results['ingest_chunks_per_sec']} chunks/s"),
        ("store writes (vectors given)", f"{results['store_write_chunks_per_sec']} chunks/s"),
        (f"query p50 / p95 at {results['chunks']} chunks",
         f"{results['query_p50_ms']} / {results['query_p95_ms']} ms"),
        ("json", str(path)),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
