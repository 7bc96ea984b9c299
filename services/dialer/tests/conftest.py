"""Makes the dialer's test fakes importable (pytest runs in importlib mode)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dialer_fakes import Rig, build_rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = build_rig()
    yield rig
    await rig.app.stop()
