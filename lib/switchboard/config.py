"""Configuration: one YAML file plus ``SWITCHBOARD__SECTION__KEY`` environment overrides.

The file is ``switchboard.yaml`` in the working directory, or the path in
``SWITCHBOARD_CONFIG``. Secrets come only from the environment. Every section has
defaults, so an empty file (or none) runs the embedded offline stack.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from switchboard.errors import SwitchboardError
from switchboard.grpc_targets import channel_target
from switchboard.languages import canonical_lang

ENV_PREFIX = "SWITCHBOARD__"
CONFIG_PATH_ENV = "SWITCHBOARD_CONFIG"
DEFAULT_CONFIG_FILE = "switchboard.yaml"


class Section(BaseModel):
    """A config section: unknown keys are errors, so a typo is caught at startup."""

    model_config = ConfigDict(extra="forbid")


class Features(Section):
    """Feature flags, live-reloaded (see :class:`switchboard.features.FeatureFlags`)."""

    answer_hard_timeout_sec: float = Field(15, gt=0)
    answer_soft_timeout_sec: float = Field(4, gt=0)
    phone_silence_timeout_sec: float = Field(20, gt=0)
    vad_silence_timeout_ms: int = Field(500, ge=50, le=5000)
    vad_cutoff_timeout_ms: int = Field(250, ge=20, le=5000)
    vad_threshold: float = Field(0.5, ge=0.1, le=1.0)
    recognition_retry_max: int = Field(3, ge=1, le=10)
    callback_timeout_hour: float = Field(3, ge=0)
    # Read when a call connects: a call answered while it is on is recorded to its end
    # (turning it on mid-call does not start a recording; off mid-call does not stop one).
    recording_enabled: bool = False
    # Recordings older than this are deleted by the dialer's sweep (recording.sweep_sec).
    recording_retention_days: float = Field(30, gt=0, le=3650)
    slow_llm_for_chat: bool = False
    # Touch tones typed after a pause this long end the caller's keypad input (as do
    # ``#`` and the expected number of digits).
    dtmf_timeout_ms: int = Field(2500, ge=500, le=10000)


class ServiceAddresses(Section):
    """Where each gRPC service is reached: ``host:port``, a list of IP ``address:port``
    entries, or ``dns:///name:port`` (see :mod:`switchboard.grpc_targets`). Each value is
    kept as one gRPC target; clients balance over its addresses (``round_robin``)."""

    dialer: str = "127.0.0.1:50051"
    speech: str = "127.0.0.1:50052"
    brain: str = "127.0.0.1:50053"
    store: str = "127.0.0.1:50054"

    @field_validator("dialer", "speech", "brain", "store", mode="before")
    @classmethod
    def _one_target(cls, value: Any) -> Any:
        if isinstance(value, str | list | tuple):
            return channel_target(value)
        return value


class InternalAuthSettings(Section):
    """How the services authenticate each other's gRPC calls.

    ``off`` (the default): plaintext, anyone who reaches a port may call it. ``token``: every
    client sends a shared token, every server refuses a call without it (UNAUTHENTICATED).
    ``mtls``: TLS both ways, servers accept only clients whose certificate ``ca_file``
    signed. ``mtls+token``: both. The token comes from ``token_file`` (a mounted Secret) or
    the environment (``SWITCHBOARD__INTERNAL_AUTH__TOKEN``), never from this file; several
    tokens (whitespace-separated) are all accepted and the first is sent, for rotation.
    Health checks and reflection need neither token nor certificate on ``health_port``
    and no token on the service port (Kubernetes probes send no metadata).
    """

    mode: Literal["off", "token", "mtls", "mtls+token"] = "off"
    token: SecretStr = SecretStr("")
    token_file: str = ""
    cert_file: str = ""  # PEM: this service's certificate, served and presented to servers
    key_file: str = ""
    ca_file: str = ""  # PEM: the CA that signed every service's certificate
    server_name: str = ""  # the name servers' certificates are checked for, if not the host
    # mtls: a second, plaintext port serving grpc.health.v1 only, for probes that cannot
    # present a certificate (Kubernetes gRPC probes); 0: none.
    health_port: int = Field(0, ge=0, lt=65536)

    @property
    def uses_token(self) -> bool:
        return self.mode in ("token", "mtls+token")

    @property
    def uses_tls(self) -> bool:
        return self.mode in ("mtls", "mtls+token")

    @model_validator(mode="after")
    def _complete(self) -> InternalAuthSettings:
        if self.uses_token and not (self.token.get_secret_value() or self.token_file):
            raise ValueError(
                f"mode {self.mode} needs token_file or SWITCHBOARD__INTERNAL_AUTH__TOKEN"
            )
        if self.uses_tls:
            missing = [k for k in ("cert_file", "key_file", "ca_file") if not getattr(self, k)]
            if missing:
                raise ValueError(f"mode {self.mode} needs {', '.join(missing)}")
        return self


class RateLimitSettings(Section):
    """Requests a minute, each per API key and per source address (0: no limit)."""

    calls_per_key: int = Field(120, ge=0)  # POST /call
    calls_per_address: int = Field(120, ge=0)
    pages_per_key: int = Field(600, ge=0)  # reports, softphone, docs
    pages_per_address: int = Field(600, ge=0)


class WebhookSettings(Section):
    """Completion webhooks (``callback_url`` of ``POST /call``), posted by the gateway.

    A URL must be ``https://`` and its host must resolve to public addresses only (no
    loopback, private, link-local or reserved ones: the gateway must not be a way into
    the network it runs in). ``allow_hosts`` lists host names or addresses exempt from
    both rules, for development and tests (``127.0.0.1``) or a trusted internal receiver.
    Retries follow the store's job policy (``store.job_max_attempts``,
    ``store.job_retry_backoff_sec``, doubling).
    """

    worker: bool = True  # post due webhooks from this gateway process
    allow_hosts: list[str] = Field(default_factory=list)
    timeout_sec: float = Field(10, gt=0, le=60)  # one delivery attempt
    lease_sec: float = Field(60, gt=0, le=3600)  # a delivery whose gateway died is retried after
    poll_sec: float = Field(1.0, gt=0, le=60)  # how often an idle worker asks for a delivery


class GatewaySettings(Section):
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # how browsers reach the gateway; derived from host:port when empty
    api_keys: list[str] = Field(default_factory=list)  # usually SWITCHBOARD__GATEWAY__API_KEYS
    max_body_bytes: int = 64 * 1024
    # A connection whose request headers are not complete this long after it opened (or
    # after the request's first byte) is closed: half-open requests hold no socket.
    header_timeout_sec: float = Field(10, gt=0)
    # The number the browser softphone (GET /softphone) registers when the page names none.
    softphone_number: str = "+10000000001"
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)


class CosmosSettings(Section):
    """The ``cosmos`` store backend: an Azure Cosmos DB for NoSQL account. The account key
    comes from the environment only (``SWITCHBOARD__STORE__COSMOS__KEY``), never this file."""

    endpoint: str = ""  # https://NAME.documents.azure.com:443/
    key: str = ""
    database: str = Field("switchboard", pattern=r"^[A-Za-z0-9_-]{1,255}$")


class StoreSettings(Section):
    """The store's database: ``sqlite`` (one file, the embedded default), ``postgres`` or
    ``cosmos`` (Azure Cosmos DB, settings in ``cosmos``).

    ``postgres_dsn`` names host, port, user and database but never the password: that
    comes from the environment only (``SWITCHBOARD__STORE__POSTGRES_PASSWORD``).
    """

    backend: Literal["sqlite", "postgres", "cosmos"] = "sqlite"
    sqlite_path: str = "var/switchboard.db"
    postgres_dsn: str = "postgresql://127.0.0.1:5432/switchboard"
    postgres_password: str = ""
    # The schema the tables live in (tests and side-by-side installs use their own).
    postgres_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    postgres_pool_min: int = Field(1, ge=0, le=100)
    postgres_pool_max: int = Field(10, ge=1, le=100)
    # Apply pending migrations when the store starts; otherwise ``switchboard migrate``
    # (a Helm pre-install/pre-upgrade Job) does it and a store on an old schema refuses to start.
    migrate_on_start: bool = False
    cosmos: CosmosSettings = Field(default_factory=CosmosSettings)

    @field_validator("postgres_dsn")
    @classmethod
    def _no_password_in_dsn(cls, value: str) -> str:
        if urlsplit(value).password is not None or "password=" in value:
            raise ValueError(
                "postgres_dsn must not carry the password; set "
                "SWITCHBOARD__STORE__POSTGRES_PASSWORD in the environment instead"
            )
        return value

    # Durable jobs (post-call work): tries before a job is dead, and the first back-off,
    # doubled after each failure.
    job_max_attempts: int = Field(5, ge=1, le=100)
    job_retry_backoff_sec: float = Field(5, gt=0)


class RedisSettings(Section):
    """Redis for scale-out (off by default: one process keeps events and jobs in-process).

    When ``enabled``: call events cross replicas on pub/sub, durable jobs run from
    streams with a consumer group (the store's outbox relays them), and the brain keeps
    a live call's working copy in a read-through cache. The password comes from the
    environment only (``SWITCHBOARD__REDIS__PASSWORD``), never from ``url``.
    """

    enabled: bool = False
    url: str = "redis://127.0.0.1:6379/0"
    password: str = ""
    # Every key, channel and stream name starts with this: installs (and tests) share a server.
    key_prefix: str = Field("switchboard:", max_length=64)
    events_channel: str = "call-events"
    jobs_stream: str = "jobs"  # one stream per job kind: <prefix><jobs_stream>:<kind>
    dead_letter_stream: str = "jobs-dead"
    consumer_group: str = "workers"
    # A delivered job not acknowledged for this long is claimed by another worker.
    visibility_timeout_sec: float = Field(300, gt=0, le=3600)
    # Deliveries before a job goes to the dead-letter stream.
    max_deliveries: int = Field(5, ge=1, le=100)
    # How long a completed job is remembered (a second copy of it is then skipped).
    done_ttl_sec: float = Field(7 * 24 * 3600, gt=0)
    # How often the outbox relay looks for jobs when no commit woke it.
    relay_poll_sec: float = Field(1.0, gt=0, le=60)
    # The brain's cached copy of a live call expires this long after its last write.
    call_cache_ttl_sec: float = Field(900, gt=0, le=86400)

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, value: str) -> str:
        if urlsplit(value).password is not None:
            raise ValueError(
                "url must not carry the password; set SWITCHBOARD__REDIS__PASSWORD "
                "in the environment instead"
            )
        return value


class SipSettings(Section):
    """The ``sip`` telephony provider: a SIP trunk or PBX over UDP.

    ``host`` is the registrar and outbound proxy; empty means no trunk (only full
    ``sip:`` URIs can be called). The password comes from the environment
    (``SWITCHBOARD__DIALER__SIP__PASSWORD``).
    """

    host: str = ""
    port: int = Field(5060, gt=0, lt=65536)
    domain: str = ""  # the SIP domain of our address; defaults to host
    user: str = "switchboard"
    auth_user: str = ""  # defaults to user
    password: str = ""
    caller_id: str = ""  # the number shown to the callee; defaults to user
    registration: bool = False  # REGISTER with host (and refresh it)
    register_expires_sec: int = Field(300, gt=0)
    bind_host: str = "127.0.0.1"
    bind_port: int = Field(5060, ge=0, lt=65536)
    public_host: str = ""  # the address in Contact and SDP, when not the bind address
    rtp_port_min: int = Field(10000, gt=1023, lt=65536)
    rtp_port_max: int = Field(20000, gt=1023, lt=65536)
    codecs: tuple[Literal["PCMU", "PCMA"], ...] = ("PCMU", "PCMA")
    # Inbound calls (README "Telephony"): only from these IP addresses or networks (empty:
    # host's addresses), with a digest challenge for auth_user/password if inbound_digest.
    # Nobody may call in when neither is set. Our media goes only to the caller's signalling
    # address or into inbound_media_networks.
    inbound_sources: tuple[str, ...] = ()
    inbound_digest: bool = False
    inbound_max_calls: int = Field(20, ge=0)
    inbound_max_calls_per_source: int = Field(10, ge=0)
    inbound_media_networks: tuple[str, ...] = ()


class TwilioSettings(Section):
    """The ``twilio`` telephony and SMS providers (Programmable Voice + Media Streams).

    The auth token is never read from the file: only from the environment variable
    named by ``auth_token_env``. ``public_url`` is the gateway as Twilio reaches it
    (``https://…``): webhooks, status callbacks and the media socket live under it.
    ``api_base_url`` points the SDK somewhere else than api.twilio.com (tests' fake).
    """

    account_sid: str = ""
    auth_token_env: str = "TWILIO_AUTH_TOKEN"
    from_number: str = ""  # E.164, a number bought on the account
    public_url: str = ""
    api_base_url: str = ""
    machine_detection: Literal["", "Enable", "DetectMessageEnd"] = "Enable"

    @property
    def auth_token(self) -> str:
        return os.environ.get(self.auth_token_env, "")


class AcsSettings(Section):
    """Azure Communication Services: the ``acs`` telephony and SMS providers (dialer) and
    the gateway's ACS endpoints (``/acs/...``). Secrets only from the environment:
    ``SWITCHBOARD__ACS__ACCESS_KEY``, ``SWITCHBOARD__ACS__URL_SIGNING_KEY``,
    ``SWITCHBOARD__ACS__EVENT_GRID_SECRET``."""

    endpoint: str = ""  # https://NAME.communication.azure.com
    access_key: str = ""  # the resource's access key (calls cannot be placed with Entra ID)
    caller_id: str = ""  # E.164: the ACS number calls and SMS come from
    # The gateway as ACS reaches it (https://…); callback and media URLs are built on it.
    public_url: str = ""
    # Signs the per-call tokens of callback and media URLs (HMAC); the same on every
    # gateway and dialer replica, so any of them can check any call's token.
    url_signing_key: str = ""
    # The secret in the Event Grid subscription's URL (/acs/events?secret=…).
    event_grid_secret: str = ""
    # Callback JWTs: audience is the ACS resource's immutable id; keys from jwks_url.
    resource_id: str = ""
    jwt_issuer: str = "https://acscallautomation.communication.azure.com"
    jwks_url: str = "https://acscallautomation.communication.azure.com/calling/keys"
    jwt_leeway_sec: float = Field(300, ge=0)  # clock skew, as the reference allows
    transfer_timeout_sec: float = Field(30, gt=0)  # a transfer ACS never settles fails after


class InboundClaimField(Section):
    name: str
    type: Literal["text", "datetime", "email", "phone_number"] = "text"
    description: str = ""


class InboundLine(Section):
    """Who the bot is on an inbound call to one number, and what it collects."""

    bot_company: str = "Switchboard"
    bot_name: str = "Switchboard"
    task: str = (
        "Answer the call for the company. Find out who is calling and why, and take a "
        "message so that someone can call them back."
    )
    lang: str = "en-US"
    # Where "talk to a human" goes (E.164). Empty: nobody; the bot takes a message instead.
    agent_phone_number: str = ""
    claim: tuple[InboundClaimField, ...] = (
        InboundClaimField(name="caller_name", description="the caller's full name"),
        InboundClaimField(name="reason", description="why they are calling"),
    )


class InboundSettings(Section):
    """Inbound calls: a line per dialled number (E.164 keys), ``default`` for the rest."""

    # National-format caller IDs ("0612345678") are read as numbers of this region.
    default_region: str = Field("US", pattern=r"^[A-Z]{2}$")
    default: InboundLine = Field(default_factory=InboundLine)
    numbers: dict[str, InboundLine] = Field(default_factory=dict)


class VoicemailSettings(Section):
    """Answering machines on outbound voice calls: how they are told from people, and
    the message left after the beep. Times are in ms of the call's audio.

    ``message`` may use ``{bot_name}``, ``{bot_company}`` and ``{callback_number}``
    (``callback_number``, else the request's ``agent_phone_number``, read digit by
    digit); with no number, ``message_without_number`` is left instead.
    """

    enabled: bool = True  # false: outbound calls are not screened, the greeting plays at once
    message: str = Field(
        "Hello, this is {bot_name} from {bot_company}. We tried to reach you and will "
        "call again later. You can also call us back at {callback_number}. Goodbye.",
        min_length=1,
        max_length=500,
    )
    message_without_number: str = Field(
        "Hello, this is {bot_name} from {bot_company}. We tried to reach you and will "
        "call again later. Goodbye.",
        min_length=1,
        max_length=500,
    )
    callback_number: str = ""  # E.164; empty: the request's agent_phone_number
    silence_human_ms: int = Field(2000, ge=200, le=10000)  # nobody speaks: a person waits
    greeting_machine_ms: int = Field(3500, ge=1000, le=15000)  # talk this long: a machine
    human_silence_ms: int = Field(200, ge=0, le=3000)  # after a short answer's transcript
    transcript_wait_ms: int = Field(1200, ge=0, le=5000)  # for that transcript, at most
    no_beep_silence_ms: int = Field(2500, ge=500, le=15000)  # a machine without a beep
    max_wait_ms: int = Field(30000, ge=1000, le=120000)  # for the beep, at most

    @field_validator("message", "message_without_number")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        fields = {"bot_name": "", "bot_company": "", "callback_number": ""}
        try:
            value.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "a voicemail message may only use {bot_name}, {bot_company} and "
                f"{{callback_number}} ({exc!s})"
            ) from exc
        return value

    @field_validator("callback_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        from switchboard.phones import parse_e164  # phonenumbers loads only when one is set

        if not value:
            return value
        try:
            return parse_e164(value, "dialer.voicemail.callback_number")
        except SwitchboardError as exc:
            raise ValueError(exc.message) from exc


class DialerSettings(Section):
    telephony: Literal["simulator", "sip", "twilio", "acs"] = "simulator"
    # "log": kept in the transcript, not sent; "twilio" / "acs": sent through the carrier
    sms: Literal["log", "twilio", "acs"] = "log"
    sample_rate: int = 8000
    max_call_duration_sec: float = Field(1800, gt=0)
    ring_timeout_sec: float = Field(30, gt=0)
    reconnect_timeout_sec: float = Field(10, gt=0)
    # On SIGTERM, live calls get this long to finish before they are ended; a deployment's
    # termination grace period must be longer (the Helm chart derives it from this value).
    drain_timeout_sec: float = Field(60, gt=0)
    # The name this replica leases its live calls under (unique per replica; empty: host
    # name and process id). A replica restarted under the same name ends its calls at once.
    replica_id: str = Field("", max_length=200)
    # A live call whose lease is not renewed for this long is ended as line_dropped by
    # another replica; the lease is renewed every lease_renew_sec.
    lease_sec: float = Field(15, gt=0, le=3600)
    lease_renew_sec: float = Field(3, gt=0)
    orphan_sweep_sec: float = Field(5, gt=0)  # how often expired leases are looked for
    # This replica's gRPC address as gateways reach it (host:port, e.g. the pod's IP).
    # Set with several replicas: a carrier's media socket and callbacks for a call this
    # replica placed carry it (signed) in their URLs, so any gateway reaches this replica.
    # Empty: the gateway uses services.dialer (one replica).
    advertise_address: str = Field("", max_length=200)
    sip: SipSettings = Field(default_factory=SipSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    inbound: InboundSettings = Field(default_factory=InboundSettings)
    voicemail: VoicemailSettings = Field(default_factory=VoicemailSettings)

    @model_validator(mode="after")
    def _renewed_before_expiry(self) -> DialerSettings:
        if self.lease_renew_sec * 2 > self.lease_sec:
            raise ValueError(
                "dialer.lease_renew_sec must be at most half of dialer.lease_sec, so one "
                "late renewal does not end a live call"
            )
        return self


class RecordingSettings(Section):
    """Where call recordings go (``features.recording_enabled`` turns them on).

    ``local``: files under ``local_dir`` (0600, the directory 0700); the gateway serves
    them from the same directory, so gateway and dialer must share that disk (one
    machine, or a shared volume). ``azure``: blobs in ``azure_container`` of the
    storage account at ``azure_account_url``, which every replica reaches; the account
    key comes from the environment only (``SWITCHBOARD__RECORDING__AZURE_ACCOUNT_KEY``),
    else a managed identity (Entra ID) authenticates.
    """

    provider: Literal["local", "azure"] = "local"
    local_dir: str = "var/recordings"
    azure_account_url: str = ""  # https://NAME.blob.core.windows.net
    azure_container: str = Field("recordings", pattern=r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
    azure_account_key: str = ""
    # Where a live call's recording is written before it is stored (empty: the system's
    # temporary directory); it needs about 4 MB per minute of 16 kHz call.
    spool_dir: str = ""
    sweep_sec: float = Field(3600, gt=0)  # how often the dialer deletes expired recordings

    @model_validator(mode="after")
    def _azure_has_account(self) -> RecordingSettings:
        if self.provider == "azure" and not self.azure_account_url.startswith(
            ("https://", "http://")
        ):
            raise ValueError(
                "recording.provider azure needs azure_account_url "
                "(https://NAME.blob.core.windows.net)"
            )
        return self


class LlmSettings(Section):
    """Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, vLLM, Ollama,
    llama.cpp server). The API key is never read from the file: only from the environment
    variable named by ``api_key_env``."""

    endpoint: str = ""  # base URL, e.g. http://127.0.0.1:8000/v1 or https://NAME.openai.azure.com
    api_key_env: str = "SWITCHBOARD_LLM_API_KEY"
    api_version: str = ""  # set for Azure OpenAI (e.g. 2024-10-21); empty for the others
    azure_entra_id: bool = False  # Azure: authenticate with an Entra ID token instead of a key
    fast_model: str = ""
    slow_model: str = ""  # defaults to fast_model
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(160, ge=16, le=4096)
    seed: int | None = 42
    request_timeout_sec: float = Field(30, gt=0)
    tool_choice: Literal["auto", "required"] = "auto"  # "required" suits very small models
    # llama.cpp's chatml-function-calling cannot stream a completion that may call tools:
    # false asks those rounds in one piece (answers without tools still stream).
    stream_tools: bool = True
    tool_rounds: int = Field(3, ge=1, le=8)  # model calls per turn; the last has no tools
    max_history_messages: int = Field(20, ge=2, le=200)
    context_tokens: int = Field(4096, ge=512)  # prompt budget, counted offline
    # How post-call answers are constrained: OpenAI's "json_schema", or "json_object" with a
    # "schema" key (llama.cpp server's grammar-constrained JSON).
    json_format: Literal["json_schema", "json_object"] = "json_schema"
    summary_retries: int = Field(3, ge=1, le=10)
    # Each post-call part gets this long; the dialer waits 60 s for the whole report.
    summary_timeout_sec: float = Field(40, gt=0)

    @property
    def configured(self) -> bool:
        return bool(self.endpoint and self.fast_model)


class RagSettings(Section):
    """The knowledge base: chunks embedded offline (MiniLM) in the store, or Azure AI Search."""

    provider: Literal["store", "azure", "none"] = "store"
    top_k: int = Field(3, ge=1, le=20)
    min_score: float = Field(0.3, ge=-1, le=1)  # search_documents drops weaker chunks
    answer_min_score: float = Field(0.5, ge=-1, le=1)  # form policy answers above this
    chunk_chars: int = Field(800, ge=100, le=8000)
    azure_endpoint: str = ""
    azure_index: str = ""
    azure_api_key_env: str = "SWITCHBOARD_AZURE_SEARCH_KEY"


class PostCallSettings(Section):
    """The brain's worker for post-call jobs (synthesis, next action, SMS summary)."""

    worker: bool = True  # claim post-call jobs from the store in this process
    lease_sec: float = Field(300, gt=0, le=3600)  # a job whose worker died runs again after this
    poll_sec: float = Field(1.0, gt=0, le=60)  # how often an idle worker asks for a job
    # Test only: wait this long before writing each report, so a test can kill the
    # brain while it is summarising. Leave at 0.
    hold_sec: float = Field(0, ge=0)


class BrainSettings(Section):
    policy: Literal["form", "llm"] = "form"
    # Operator phrase files (en.yaml, fr.yaml, …) overriding the bot's fixed phrases.
    phrases_dir: str = ""
    # Operator prompt templates (system.fr.jinja, …) overriding the llm policy's prompts.
    prompts_dir: str = ""
    # Freezes "now" for date resolution (ISO 8601). For reproducible demos and tests only.
    fixed_now: str = ""
    llm: LlmSettings = Field(default_factory=LlmSettings)
    rag: RagSettings = Field(default_factory=RagSettings)
    post_call: PostCallSettings = Field(default_factory=PostCallSettings)


class SpeechSettings(Section):
    stt: str = "local"
    tts: str = "local"
    vad: str = "webrtc"
    # The languages callers may be served in (BCP 47): POST /call refuses any other, a
    # mid-call switch to any other keeps the current one. The speech service checks at
    # startup that its STT and TTS serve each one (the local pair: en-US, fr-FR).
    languages: list[str] = Field(default_factory=lambda: ["en-US"], min_length=1)

    @field_validator("languages")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        try:
            return list(dict.fromkeys(canonical_lang(tag) for tag in value))
        except ValueError as exc:
            raise ValueError(f"speech.languages: {exc}") from exc


class AppConfigurationSettings(Section):
    """Azure App Configuration as a live source of feature flags (off while ``endpoint`` is
    empty). Its key-values override the file's ``features``; the environment still wins.
    Authenticates with the connection string in the variable named by
    ``connection_string_env`` when set, else with a managed identity (Entra ID)."""

    endpoint: str = ""  # https://NAME.azconfig.io
    key_prefix: str = ""  # keys are <prefix><flag name>, e.g. answer_hard_timeout_sec
    label: str = ""  # empty: the keys without a label
    connection_string_env: str = "SWITCHBOARD_APPCONFIG_CONNECTION_STRING"
    request_timeout_sec: float = Field(5, gt=0)


class LoggingSettings(Section):
    level: str = "INFO"
    format: Literal["json", "text"] = "json"
    # Personal data (numbers, transcripts, claim values) is dropped from logs unless true.
    include_personal_data: bool = False


class Settings(Section):
    """The whole configuration of a Switchboard deployment."""

    features: Features = Field(default_factory=Features)
    feature_reload_sec: float = Field(60, gt=0)
    services: ServiceAddresses = Field(default_factory=ServiceAddresses)
    internal_auth: InternalAuthSettings = Field(default_factory=InternalAuthSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    dialer: DialerSettings = Field(default_factory=DialerSettings)
    acs: AcsSettings = Field(default_factory=AcsSettings)
    brain: BrainSettings = Field(default_factory=BrainSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    app_configuration: AppConfigurationSettings = Field(default_factory=AppConfigurationSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)


class _Loader(yaml.SafeLoader):
    """YAML for config: dates and phone-like numbers stay the text they were written as."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _int_or_number_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    """``+14155550100`` (E.164) and ``0123`` (SIP users, extensions) are text, not integers."""
    text = str(loader.construct_scalar(node))
    if text.startswith("+") or (len(text) > 1 and text[0] == "0" and text[1].isdigit()):
        return text
    return int(loader.construct_yaml_int(node))


_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_number_text)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects


class ConfigError(ValueError):
    """The configuration cannot be loaded; the message says which key and why."""


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_PATH_ENV, DEFAULT_CONFIG_FILE))


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def env_overrides(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """``SWITCHBOARD__GATEWAY__PORT=9000`` → ``{"gateway": {"port": "9000"}}``.

    Values are parsed as YAML scalars or flow collections, so ``false``, ``0``,
    ``1.5`` and ``[a, b]`` keep their types.
    """
    tree: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in key[len(ENV_PREFIX) :].split("__") if part]
        if not path:
            continue
        try:
            value = parse_yaml(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key}: {part} is both a value and a section")
        node[path[-1]] = value
    return tree


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def raw_config(
    path: Path | None = None, environ: dict[str, str] | os._Environ[str] | None = None
) -> dict[str, Any]:
    return deep_merge(
        read_yaml(path or config_path()), env_overrides(os.environ if environ is None else environ)
    )


def load_settings(
    path: Path | None = None, environ: dict[str, str] | os._Environ[str] | None = None
) -> Settings:
    """Reads the file and the environment; raises :class:`ConfigError` naming bad keys."""
    try:
        return Settings.model_validate(raw_config(path, environ))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc
