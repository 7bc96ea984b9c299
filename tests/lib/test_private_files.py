"""Files holding personal data are created, or tightened to, owner-only modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.private_files import (
    make_private,
    open_private_log,
    private_dir,
    restrict_new_files,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def lax_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_after_restricting_new_files_a_file_and_a_directory_are_the_owners_alone(
    tmp_path: Path,
) -> None:
    restrict_new_files()
    (tmp_path / "report.html").write_text("claim")
    (tmp_path / "reports").mkdir()

    assert mode(tmp_path / "report.html") == 0o600
    assert mode(tmp_path / "reports") == 0o700


def test_a_private_dir_is_created_0700_and_an_existing_one_is_tightened(tmp_path: Path) -> None:
    fresh = private_dir(tmp_path / "var")
    existing = tmp_path / "old"
    existing.mkdir(mode=0o755)
    private_dir(existing)

    assert mode(fresh) == 0o700
    assert mode(existing) == 0o700


def test_make_private_tightens_files_and_skips_missing_ones(tmp_path: Path) -> None:
    db = tmp_path / "switchboard.db"
    db.write_text("")
    db.chmod(0o644)

    make_private(db, tmp_path / "switchboard.db-wal")

    assert mode(db) == 0o600


def test_a_log_file_is_opened_0600_even_when_it_was_world_readable(tmp_path: Path) -> None:
    path = tmp_path / "store.log"
    path.write_text("old line\n")
    path.chmod(0o644)

    with open_private_log(path) as log:
        log.write(b"new line\n")

    assert mode(path) == 0o600
    assert path.read_text() == "old line\nnew line\n"
