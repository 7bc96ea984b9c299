"""The dialer's test rig (fakes from :mod:`switchboard_testing.dialer_fakes`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard_testing.dialer_fakes import Rig, build_rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = build_rig()
    yield rig
    await rig.app.stop()
