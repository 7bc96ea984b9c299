"""The docs name only files that exist: a moved or deleted module breaks this test.

Checked in each doc: every markdown link to a repository file (resolved from the
doc's folder, as GitHub does) and every backticked file name with a source
extension. A backticked name may be written relative to the repository, to the
doc's folder, or as the tail of a path (``vad/webrtc.py``, ``engines.py`` in a
service's README), so it passes when some file of the repository ends with it.
Names with wildcards or placeholders (``services/*/README.md``, ``<name>``) and
URLs are not file names and are skipped. ``switchboard.example.yaml`` must load:
every key it shows is a real setting.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from switchboard.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
DOC_GLOBS = ("README.md", "services/*/README.md", "docs/*.md", "deploy/**/README.md")

# What a file name ends with, for a backticked name to count as one.
SOURCE_SUFFIXES = (
    ".py",
    ".md",
    ".proto",
    ".yaml",
    ".yml",
    ".toml",
    ".txt",
    ".sh",
    ".sql",
    ".jinja",
    ".bicep",
    ".bicepparam",
    ".tpl",
    ".js",
    ".html",
    ".css",
    ".ini",
    ".cfg",
)
SOURCE_NAMES = ("Dockerfile", "Makefile", "Chart.yaml", ".dockerignore")
# Files the docs name on purpose that a clone does not hold: the operator writes them.
NOT_IN_THE_REPO = frozenset({"switchboard.yaml"})  # made from switchboard.example.yaml

_BACKTICKED = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
_NOT_A_NAME = re.compile(r"[\s*?<>{}$|=,;()\[\]]|://|^[-/.~]|\.\.\.|…")


@cache
def repo_files() -> frozenset[str]:
    """The repository's files, relative to its root: tracked or new, never ignored ones
    (generated code and local data are not in a fresh clone)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: what is on disk
        listed = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return frozenset(name for name in listed if (ROOT / name).exists())


@cache
def repo_dirs() -> frozenset[str]:
    return frozenset(str(parent) for name in repo_files() for parent in Path(name).parents)


def docs() -> list[Path]:
    return sorted({path for pattern in DOC_GLOBS for path in ROOT.glob(pattern)})


def is_file_name(text: str) -> bool:
    """``lib/switchboard/config.py``, ``engines.py``, ``deploy/helm/Chart.yaml``:
    a name with a source suffix, and not a URL, a command, a pattern or a module path."""
    if _NOT_A_NAME.search(text):
        return False
    name = text.rsplit("/", 1)[-1]
    return name in SOURCE_NAMES or (name.endswith(SOURCE_SUFFIXES) and "." in name[:-1])


def names_a_repo_file(name: str, doc: Path) -> bool:
    """True when ``name`` is a file of the repository, from the root, from the doc's
    folder, or as the tail of some file's path."""
    name = name.removeprefix("./")
    if name in NOT_IN_THE_REPO:
        return True
    folder = doc.parent.relative_to(ROOT)
    files = repo_files()
    if name in files or (folder / name).as_posix() in files:
        return True
    tail = "/" + name
    return any(f.endswith(tail) for f in files)


def link_target_exists(target: str, doc: Path) -> bool:
    """A relative markdown link resolves, from the doc's folder, to a file or folder."""
    path = (doc.parent / target.split("#", 1)[0]).resolve()
    try:
        relative = path.relative_to(ROOT).as_posix()
    except ValueError:
        return False
    return relative in repo_files() or relative in repo_dirs()


def missing_names(doc: Path) -> list[str]:
    """The file names and links in ``doc`` that name nothing in the repository."""
    text = doc.read_text(encoding="utf-8")
    missing = [
        f"`{name}`"
        for name in _BACKTICKED.findall(text)
        if is_file_name(name) and not names_a_repo_file(name, doc)
    ]
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:|#", target):  # a URL, mail or an anchor in the same page
            continue
        if not link_target_exists(target, doc):
            missing.append(f"({target})")
    return missing


@pytest.mark.parametrize("doc", docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_doc_names_only_files_that_exist(doc: Path) -> None:
    assert missing_names(doc) == [], f"{doc.relative_to(ROOT)} names files that do not exist"


def test_the_docs_checked_include_every_service_readme() -> None:
    checked = {str(p.relative_to(ROOT)) for p in docs()}
    services = {f"services/{p.name}/README.md" for p in (ROOT / "services").iterdir() if p.is_dir()}
    assert services <= checked


def test_a_moved_module_or_a_broken_link_is_reported(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "a-doc-under-test.md"  # never written: only its folder counts
    assert names_a_repo_file("lib/switchboard/config.py", doc)
    assert names_a_repo_file("providers.py", doc)
    assert not names_a_repo_file("services/dialer/switchboard_dialer/no_such_module.py", doc)
    assert link_target_exists("operations.md#helm", doc)
    assert not link_target_exists("../services/nowhere/README.md", doc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lib/switchboard/config.py", True),
        ("engines.py", True),
        ("deploy/helm/Chart.yaml", True),
        ("requirements-speech.txt", True),
        ("services/*/README.md", False),
        ("python -m switchboard_store", False),
        ("http://127.0.0.1:8080/docs", False),
        ("/softphone/ws", False),
        ("switchboard_speech.vad.webrtc:WebRtcVad", False),
        ("protos/switchboard/v1/<name>.proto", False),
        ("brain.llm.api_key_env", False),
    ],
)
def test_only_names_that_look_like_files_are_checked(text: str, expected: bool) -> None:
    assert is_file_name(text) is expected


def test_the_example_configuration_loads_with_every_key_it_shows() -> None:
    settings = load_settings(ROOT / "switchboard.example.yaml", environ={})
    assert settings.brain.rag.provider == "store"
