"""``switchboard kb add FILES…`` and ``switchboard kb search QUERY``.

The store must be running (``switchboard run``); the embeddings are computed here,
offline, with the same model the brain uses for queries.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from switchboard.config import Settings
from switchboard.errors import SwitchboardError
from switchboard.store_client import StoreClient
from switchboard_brain.rag import create_knowledge_base
from switchboard_brain.rag.ingest import ingest


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def add_arguments(kb: argparse.ArgumentParser) -> None:
    verbs = kb.add_subparsers(dest="kb_verb", required=True)
    add = verbs.add_parser("add", help="chunk, embed and store text or Markdown files")
    add.add_argument("files", type=Path, nargs="+")
    add.add_argument("--no-progress", action="store_true", help="no progress bar")
    search = verbs.add_parser("search", help="show the best chunks for a question")
    search.add_argument("query")
    search.add_argument("--top", type=int, default=3)


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    store = StoreClient(settings.services.store, timeout_sec=60)
    kb = create_knowledge_base(settings.brain.rag, store)
    if kb is None:
        _out("brain.rag.provider is none: there is no knowledge base to use")
        return 2
    try:
        if args.kb_verb == "search":
            for hit in await kb.search(args.query, args.top):
                _out(f"{hit.score:6.3f}  {hit.source} · {hit.title}\n        {hit.content[:200]}")
            return 0
        bar: Any = None

        def start(total: int) -> None:
            nonlocal bar
            if not args.no_progress:
                from tqdm import tqdm  # type: ignore[import-untyped]

                bar = tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr)

        def advance(count: int) -> None:
            if bar is not None:
                bar.update(count)

        try:
            report = await ingest(
                kb, args.files, settings.brain.rag.chunk_chars, advance, on_chunks=start
            )
        finally:
            if bar is not None:
                bar.close()
        for reason in report.skipped:
            _out(f"skipped {reason}")
        _out(f"Added {report.added} chunks from {report.files} files.")
        return 0 if report.files else 1
    except SwitchboardError as exc:
        _out(f"Knowledge base unavailable: {exc.message} (is `switchboard run` running?)")
        return 1
    finally:
        await kb.close()
        await store.close()


def main(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args))
