"""The dialer's telephony and SMS providers come from the shared registry, by name."""

from __future__ import annotations

import pytest

from switchboard.config import AcsSettings, ConfigError, DialerSettings, Settings
from switchboard.providers import Vendor, create
from switchboard_dialer.sms import SMS, create_sms
from switchboard_dialer.sms.acs import AcsSms
from switchboard_dialer.sms.log import LogSms
from switchboard_dialer.telephony import TELEPHONY, create_telephony
from switchboard_dialer.telephony.acs.provider import AcsProvider
from switchboard_dialer.telephony.simulator import SimulatorProvider
from switchboard_testing.dialer_fakes import FakeStore

MISSING = Vendor("no_such_vendor_sdk.module:Provider", extra="requirements-twilio.txt")


def test_the_telephony_name_in_the_settings_resolves_to_its_provider() -> None:
    settings = Settings(dialer=DialerSettings(telephony="simulator"))
    assert isinstance(create_telephony(settings), SimulatorProvider)


def test_an_unknown_telephony_name_lists_the_choices() -> None:
    settings = Settings(dialer=DialerSettings.model_construct(telephony="pstn"))
    with pytest.raises(ConfigError, match=r"dialer.telephony: .*choose one of .*simulator, sip"):
        create_telephony(settings)


def test_a_telephony_provider_without_its_sdk_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"pip install -r requirements-twilio.txt"):
        create(TELEPHONY.adding("twilio", MISSING), "twilio", Settings())


def test_the_sms_name_in_the_settings_resolves_to_its_provider() -> None:
    assert isinstance(create_sms(Settings(), FakeStore()), LogSms)


def test_an_unknown_sms_name_lists_the_choices() -> None:
    with pytest.raises(
        ConfigError, match=r"dialer.sms: unknown provider 'pigeon'; choose one of .*log"
    ):
        create_sms(Settings(dialer=DialerSettings.model_construct(sms="pigeon")), FakeStore())


def test_an_sms_provider_without_its_sdk_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"no_such_vendor_sdk.*requirements-twilio.txt"):
        create(SMS.adding("twilio", MISSING), "twilio", store=FakeStore())


ACS = AcsSettings(
    endpoint="http://127.0.0.1:9",
    access_key="ZmFrZS1rZXk=",
    caller_id="+18005550100",
    public_url="https://switchboard.example.com",
    url_signing_key="k",
)


async def test_the_acs_telephony_name_resolves_to_its_provider_with_the_acs_section() -> None:
    settings = Settings(dialer=DialerSettings(telephony="acs", advertise_address="10.0.0.7:50051"))
    provider = create_telephony(settings.model_copy(update={"acs": ACS}))
    assert isinstance(provider, AcsProvider)
    assert provider.settings is ACS
    assert provider.advertise_address == "10.0.0.7:50051"
    await provider.close()


def test_the_acs_telephony_provider_names_the_settings_it_lacks() -> None:
    with pytest.raises(ConfigError, match=r"acs.access_key, acs.url_signing_key"):
        create_telephony(
            Settings(
                dialer=DialerSettings(telephony="acs"),
                acs=ACS.model_copy(update={"access_key": "", "url_signing_key": ""}),
            )
        )


async def test_the_acs_sms_name_resolves_to_its_provider() -> None:
    sms = create_sms(Settings(dialer=DialerSettings(sms="acs"), acs=ACS), FakeStore())
    assert isinstance(sms, AcsSms)
    await sms.close()
