"""The brain's chat models and knowledge bases come from the shared registry, by name."""

from __future__ import annotations

import pytest

from switchboard.config import BrainSettings, ConfigError, LlmSettings, RagSettings
from switchboard.providers import Vendor, create
from switchboard_brain.llm import CHAT_MODELS, create_chat_models
from switchboard_brain.policy import POLICIES, create_policy
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.rag import KNOWLEDGE_BASES, create_knowledge_base
from switchboard_brain.rag.store_kb import StoreKnowledgeBase

MISSING = Vendor("no_such_vendor_sdk.module:Provider", extra="requirements-azure.txt")
SETTINGS = LlmSettings(endpoint="http://127.0.0.1:9/v1", fast_model="small", slow_model="large")


def test_the_openai_chat_model_gets_the_llm_section_and_its_model_name() -> None:
    pytest.importorskip("openai")
    fast, slow = create_chat_models(SETTINGS)
    assert (fast.model, slow.model) == ("small", "large")


def test_an_unknown_chat_model_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"brain.llm: unknown provider 'gpt'; choose one of "):
        create(CHAT_MODELS, "gpt", SETTINGS)


def test_a_chat_model_without_its_sdk_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"no_such_vendor_sdk.*pip install -r requirements-azure"):
        create(CHAT_MODELS.adding("ghost", MISSING), "ghost", SETTINGS)


def test_the_store_knowledge_base_resolves_with_the_store_client() -> None:
    kb = create_knowledge_base(RagSettings(provider="store"), store=object())
    assert isinstance(kb, StoreKnowledgeBase)
    assert create_knowledge_base(RagSettings(provider="none"), store=object()) is None


def test_an_unknown_knowledge_base_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"brain.rag.provider: .*choose one of azure, store"):
        create(KNOWLEDGE_BASES, "pinecone", RagSettings())


def test_a_knowledge_base_without_its_sdk_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"no_such_vendor_sdk.*requirements-azure.txt"):
        create(KNOWLEDGE_BASES.adding("ghost", MISSING), "ghost", RagSettings())


def test_a_policy_name_resolves_with_its_settings_section() -> None:
    settings = BrainSettings(rag=RagSettings(answer_min_score=0.7))
    policy = create_policy("form", settings)
    assert isinstance(policy, FormPolicy)
    assert policy._answer_min_score == 0.7  # brain.rag reached it


def test_an_unknown_policy_lists_the_choices() -> None:
    with pytest.raises(
        ConfigError, match=r"brain.policy: unknown provider 'rules'; choose one of form, llm"
    ):
        create_policy("rules", BrainSettings())


def test_a_policy_without_its_sdk_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"no_such_vendor_sdk.*requirements-azure.txt"):
        create(POLICIES.adding("ghost", MISSING), "ghost", BrainSettings())
