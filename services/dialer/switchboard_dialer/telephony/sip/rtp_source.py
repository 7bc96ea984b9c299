"""Which received RTP packets to play: RFC 3550 appendix A.1 sequence validation per SSRC.

One forged packet far ahead in sequence must not make every genuine packet look late
(0x7fff packets is about 11 minutes of silence at 50 packets a second). As in A.1, a
packet more than ``MAX_DROPOUT`` ahead is dropped and only remembered: the stream moves
there only when the next packet follows it (the sender really restarted its numbering).
A new SSRC (a re-anchored trunk, a separate DTMF stream) is played after
``MIN_SEQUENTIAL`` packets in order. Unlike A.1, which counts late packets as received,
a duplicate or late packet is not played: there is no jitter buffer to put it back in.
"""

from __future__ import annotations

from collections import OrderedDict

SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2
MAX_SOURCES = 4  # SSRCs tracked per stream; the least recently heard is forgotten


class SourceSequence:
    """The sequence state of one SSRC (``s`` in RFC 3550 A.1)."""

    def __init__(self, sequence: int) -> None:
        self.max_seq = (sequence - 1) % SEQ_MOD
        self.bad_seq = SEQ_MOD + 1  # no pending jump: matches no 16-bit number
        self.probation = MIN_SEQUENTIAL

    def accept(self, sequence: int) -> bool:
        """Whether to play the packet numbered ``sequence``; updates the state (A.1)."""
        delta = (sequence - self.max_seq) % SEQ_MOD
        if self.probation:
            if sequence == (self.max_seq + 1) % SEQ_MOD:
                self.probation -= 1
                self.max_seq = sequence
                return self.probation == 0
            self.probation = MIN_SEQUENTIAL - 1
            self.max_seq = sequence
            return False
        if 0 < delta < MAX_DROPOUT:
            self.max_seq = sequence
            return True
        if delta == 0 or delta > SEQ_MOD - MAX_MISORDER:
            return False  # a duplicate, or late
        if sequence == self.bad_seq:  # two in a row after a jump: the sender restarted
            self.max_seq = sequence
            self.bad_seq = SEQ_MOD + 1
            return True
        self.bad_seq = (sequence + 1) % SEQ_MOD
        return False


class RtpSources:
    """The SSRCs one stream hears from, each validated on its own."""

    def __init__(self) -> None:
        self._sources: OrderedDict[int, SourceSequence] = OrderedDict()

    def accept(self, ssrc: int, sequence: int) -> bool:
        """Whether the packet (``ssrc``, ``sequence``) is new and in order: play it."""
        source = self._sources.get(ssrc)
        if source is None:
            source = self._sources[ssrc] = SourceSequence(sequence)
            while len(self._sources) > MAX_SOURCES:
                self._sources.popitem(last=False)
        else:
            self._sources.move_to_end(ssrc)
        return source.accept(sequence)
