"""baresip, sipp and kamailio as test peers, configured as in docs/telephony notes."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from types import TracebackType

from switchboard_testing.ports import free_rtp_range, free_tcp_port, free_udp_port
from switchboard_testing.sip_peers import (
    HOST,
    KAMAILIO_MODULES,
    SIPP_PCAPS,
    Process,
    need,
    wait_sip_ready,
    wait_udp_bound,
    write_tone_wav,
)

SCENARIOS = Path(__file__).parent / "sipp_scenarios"


class Baresip:
    """baresip 1.x that auto-answers, plays a tone wav and dumps what it hears."""

    def __init__(
        self,
        workdir: Path,
        user: str = "uas",
        tone_hz: float = 440.0,
        registrar_port: int | None = None,
        password: str = "",
    ) -> None:
        self.binary = need("baresip")
        self.dir = workdir / f"baresip-{user}"
        self.dir.mkdir()
        (self.dir / "rec").mkdir()
        self.user = user
        self.port = free_udp_port()
        self.ctrl_port = free_tcp_port()
        self.tone_hz = tone_hz
        self.registrar_port = registrar_port
        self.password = password
        self.process = Process("baresip", [self.binary, "-f", str(self.dir)], self.dir)

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{HOST}:{self.port}"

    def _write_config(self) -> None:
        wav = write_tone_wav(self.dir / "tone.wav", self.tone_hz, 10)
        low, high = free_rtp_range(20)
        (self.dir / "config").write_text(
            "\n".join(
                [
                    f"sip_listen {HOST}:{self.port}",
                    "sip_transports udp",
                    f"net_interface {HOST}",
                    "audio_player aubridge,nil",
                    f"audio_source aufile,{wav}",
                    "audio_alert aubridge,nil",
                    "audio_srate 8000",
                    "audio_channels 1",
                    f"rtp_ports {low}-{high}",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module aubridge.so",
                    "module sndfile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen {HOST}:{self.ctrl_port}",
                    f"snd_path {self.dir / 'rec'}",
                    "",
                ]
            )
        )
        if self.registrar_port is None:
            account = f"<sip:{self.user}@{HOST}:{self.port}>;regint=0"
        else:
            proxy = f"sip:{HOST}:{self.registrar_port}"
            account = (
                f"<sip:{self.user}@{HOST}:{self.registrar_port}>;auth_pass={self.password};"
                f'regint=60;outbound="{proxy}"'
            )
        (self.dir / "accounts").write_text(f"{account};answermode=auto;audio_codecs=PCMU,PCMA\n")

    async def __aenter__(self) -> Baresip:
        self._write_config()
        await self.process.start()
        await self._wait_ctrl()
        if self.registrar_port is None:
            await wait_sip_ready(self.port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.process.stop()

    async def _wait_ctrl(self) -> None:
        async with asyncio.timeout(5):
            while True:
                try:
                    _, writer = await asyncio.open_connection(HOST, self.ctrl_port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                await writer.wait_closed()
                return

    async def command(self, command: str, params: str = "") -> str:
        """One ctrl_tcp command (a netstring of JSON); returns the raw reply."""
        reader, writer = await asyncio.open_connection(HOST, self.ctrl_port)
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        writer.write(f"{len(body)}:".encode() + body + b",")
        await writer.drain()
        try:
            async with asyncio.timeout(2):
                reply = await reader.read(65536)
        except TimeoutError:
            reply = b""
        writer.close()
        await writer.wait_closed()
        return reply.decode(errors="replace")

    async def heard(self, within_sec: float = 5.0) -> Path:
        """The wav baresip decoded from the far end (written when a call ends)."""
        async with asyncio.timeout(within_sec):
            while True:
                dumps = [p for p in (self.dir / "rec").glob("*dec.wav") if p.stat().st_size > 44]
                if dumps:
                    await asyncio.sleep(0.2)  # let baresip finish the header
                    return dumps[0]
                await asyncio.sleep(0.1)


class Sipp:
    """One sipp run (built-in scenario name or an XML file from ./scenarios)."""

    def __init__(self, workdir: Path, scenario: str, *args: str, remote: str = "") -> None:
        self.binary = need("sipp")
        self.dir = workdir / f"sipp-{scenario.replace('.xml', '')}"
        self.dir.mkdir()
        self.port = free_udp_port()
        self.media_port = free_rtp_range(4)[0]
        if scenario.endswith(".xml"):
            selector = ["-sf", str(SCENARIOS / scenario)]
        else:
            selector = ["-sn", scenario]
        if scenario == "uac_pcap":
            (self.dir / "pcap").mkdir()
            for name in ("g711a.pcap", "dtmf_2833_1.pcap"):
                shutil.copy(SIPP_PCAPS / name, self.dir / "pcap" / name)
        argv = [self.binary, *([remote] if remote else []), *selector]
        argv += ["-i", HOST, "-p", str(self.port), "-mi", HOST, "-mp", str(self.media_port)]
        argv += ["-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error", *args]
        self.uas = not remote
        self.process = Process("sipp", argv, self.dir)

    @property
    def uri(self) -> str:
        return f"sip:service@{HOST}:{self.port}"

    async def __aenter__(self) -> Sipp:
        await self.process.start()
        if self.uas:
            await wait_udp_bound(self.port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.process.stop()


class Kamailio:
    """kamailio as registrar and proxy; REGISTER and INVITE need digest auth."""

    def __init__(self, workdir: Path, password: str) -> None:
        self.binary = need("kamailio")
        self.dir = workdir / "kamailio"
        self.dir.mkdir()
        self.port = free_udp_port()
        template = (SCENARIOS / "kamailio.cfg").read_text()
        config = (
            template.replace("@PORT@", str(self.port))
            .replace("@HOST@", HOST)
            .replace("@PASSWORD@", password)
            .replace("@MODULES@", str(KAMAILIO_MODULES))
        )
        (self.dir / "kamailio.cfg").write_text(config)
        argv = [
            self.binary,
            "-f",
            str(self.dir / "kamailio.cfg"),
            "-DD",
            "-E",
            "-Y",
            str(self.dir),
            "-P",
            str(self.dir / "k.pid"),
            "-m",
            "32",
            "-M",
            "8",
        ]
        self.process = Process("kamailio", argv, self.dir)

    async def __aenter__(self) -> Kamailio:
        await self.process.start()
        await wait_sip_ready(self.port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.process.stop()
