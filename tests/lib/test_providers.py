"""One registry turns a configured name into a provider, for every seam."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from switchboard.config import ConfigError
from switchboard.providers import Seam, Vendor, create


@dataclass
class Trunk:
    host: str = "pbx.example"


@dataclass
class DialerSection:
    sip: Trunk


class Phone:
    """The seam's base class in these tests."""

    def __init__(self, settings: object = None, **dependencies: object) -> None:
        self.settings = settings
        self.dependencies = dependencies


class NotAPhone:
    pass


HERE = __name__
PHONES = Seam(
    "dialer.telephony",
    Phone,
    {
        "plain": Vendor(f"{HERE}:Phone"),
        "whole": Vendor(f"{HERE}:Phone", section=""),
        "sip": Vendor(f"{HERE}:Phone", section="sip"),
        "nested": Vendor(f"{HERE}:Phone", section="dialer.sip"),
        "vendor": Vendor("no_such_vendor_sdk.module:Phone", extra="requirements-azure.txt"),
        "wrong": Vendor(f"{HERE}:NotAPhone"),
    },
)


def test_a_name_resolves_to_its_vendor_with_the_dependencies() -> None:
    phone = create(PHONES, "plain", DialerSection(Trunk()), store="the store")
    assert isinstance(phone, Phone)
    assert phone.settings is None  # a vendor without settings gets none
    assert phone.dependencies == {"store": "the store"}


def test_a_vendor_gets_its_own_settings_section() -> None:
    section = DialerSection(Trunk())
    assert create(PHONES, "sip", section).settings is section.sip
    assert create(PHONES, "whole", section).settings is section


@dataclass
class Root:
    dialer: DialerSection


def test_a_dotted_section_is_a_path_from_the_settings_given() -> None:
    root = Root(DialerSection(Trunk()))
    assert create(PHONES, "nested", root).settings is root.dialer.sip


def test_an_unknown_name_is_a_config_error_listing_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"dialer.telephony: .*choose one of nested, plain, sip"):
        create(PHONES, "pstn")


def test_a_missing_sdk_names_the_requirements_file_to_install() -> None:
    with pytest.raises(ConfigError, match=r"no_such_vendor_sdk.*pip install -r requirements-azure"):
        create(PHONES, "vendor")


def test_a_class_of_the_wrong_seam_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="is not a Phone"):
        create(PHONES, "wrong")
