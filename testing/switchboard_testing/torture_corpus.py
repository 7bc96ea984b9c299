# ruff: noqa: E501 - the RFC 4475 messages are kept verbatim, long lines included
"""Malformed and hostile SIP messages, after the RFC 4475 torture tests, with what we answer.

Each case is a template: ``$HOST``/``$PORT`` become the endpoint's address, ``$ID`` a
unique token (Call-ID and branch, so cases never match each other's transactions),
``$LEN`` the body's length, ``$SDP`` a usable offer. Lines end in CRLF on the wire.

``expect`` is what the endpoint must do: a set of final statuses (the first final
response must be one of them), ``DROP`` (no answer at all) or ``BAD`` (400, or no
answer when nothing in it says where a 400 would go). Never a 500, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

DROP = "drop"
BAD = "bad"
HANDLED_INVITE = frozenset({180, 200, 480, 486, 503, 603})  # taken as a call (or busy)

SDP = (
    "v=0\r\no=torture 1 1 IN IP4 $HOST\r\ns=-\r\nc=IN IP4 $HOST\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


@dataclass(frozen=True)
class Case:
    name: str
    template: str
    expect: frozenset[int] | str

    def render(self, host: str, port: int, unique: str) -> bytes:
        head, sep, body = self.template.partition("\n\n")
        body = body.replace("$SDP", SDP)
        head = head.replace("\n", "\r\n")
        text = head + ("\r\n\r\n" if sep else "") + body
        text = text.replace("$LEN", str(len(body.replace("$HOST", host).encode())))
        text = text.replace("$HOST", host).replace("$PORT", str(port)).replace("$ID", unique)
        return text.encode()


def _statuses(*codes: int) -> frozenset[int]:
    return frozenset(codes)


# Standard headers of an INVITE from 127.0.0.1 to the endpoint under test.
_HEAD = """Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Max-Forwards: 70
From: "Torture" <sip:torture@$HOST>;tag=t$ID
To: <sip:bot@$HOST:$PORT>
Call-ID: $ID@torture
Contact: <sip:torture@$HOST:5999>"""

VALID = [
    Case(
        "wsinv: whitespace, line folding and unusual separators everywhere (in a dialog: 481)",
        """INVITE sip:bot@$HOST:$PORT;unknownparam SIP/2.0
TO :
 sip:bot@$HOST:$PORT ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: $ID@torture
Content-Length   : $LEN
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    $HOST:5999;branch=z9hG4bK$ID
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

$SDP""",
        _statuses(481),
    ),
    Case(
        "intmeth: an unknown method made of every token character",
        """!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>
From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="работающий";tag=_token~1'+`*%!-.
Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
Max-Forwards: 255
extensionHeader-!.%*+_`'~: 大停電
Content-Length: 0

""",
        _statuses(405, 416),
    ),
    Case(
        "esc01: escaped characters in URIs",
        """INVITE sip:sips%3Auser%40example.com@$HOST:$PORT SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: $ID@torture
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
CSeq: 1 INVITE
c: application/sdp
Contact: <sip:cal%6Cer@$HOST:5999;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: $LEN

$SDP""",
        HANDLED_INVITE,
    ),
    Case(
        "escnull: an escaped NUL in a REGISTER's To",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: $ID@torture
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Contact: <sip:%00@host5.example.com>
Expires: 3600
l: 0

""",
        _statuses(405),
    ),
    Case(
        "esc02: % in a method name",
        """RE%47IST%45R sip:$HOST:$PORT SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: $ID@torture
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Max-Forwards: 70
CSeq: 29344 RE%47IST%45R
l: 0

""",
        _statuses(405),
    ),
    Case(
        "lwsdisp: no space between a display name and <",
        """OPTIONS sip:bot@$HOST:$PORT SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: $ID@torture
CSeq: 2455 OPTIONS
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
l: 0

""",
        _statuses(200),
    ),
    Case(
        "longreq: long values in many headers (under the limits)",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        'To: "I have a user name of ' + "extreme " * 60 + 'proportion" <sip:bot@$HOST:$PORT>\n'
        "From: sip:caller@example.net;tag=" + "12982" * 80 + "\n"
        "Call-ID: $ID@" + "torture" * 50 + "\n"
        "CSeq: 1 INVITE\n"
        "Max-Forwards: 70\n"
        "Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID\n"
        + "".join(
            f"Via: SIP/2.0/UDP sip{i}.example.com;branch=z9hG4bK{'x' * 200}\n" for i in range(20)
        )
        + "Contact: <sip:torture@$HOST:5999>\n"
        "X-Unknown-Long-Header: " + "long" * 300 + "\n"
        "Content-Type: application/sdp\n"
        "Content-Length: $LEN\n\n$SDP",
        HANDLED_INVITE,
    ),
    Case(
        "dblreq: two requests in one datagram (the second is bytes past Content-Length)",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: $ID@torture
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Content-Length: 0

INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Length: 0
""",
        _statuses(405),
    ),
    Case(
        "semiuri: a semicolon in the user part",
        """OPTIONS sip:user;par=u%40example.net@$HOST:$PORT SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: $ID@torture
CSeq: 8 OPTIONS
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Content-Length: 0

""",
        _statuses(200),
    ),
    Case(
        "transports: unusual transports in the lower Vias",
        """OPTIONS sip:bot@$HOST:$PORT SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: $ID@torture
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS-SCTP t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
CSeq: 3882340 OPTIONS
l: 0

""",
        _statuses(200),
    ),
    Case(
        "mpart01: a multipart body we cannot use (415)",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + """
CSeq: 1 INVITE
Content-Type: multipart/mixed;boundary=7a9cbec02ceef655
Content-Length: $LEN

--7a9cbec02ceef655
Content-Type: application/sdp

$SDP
--7a9cbec02ceef655--
""",
        _statuses(415),
    ),
    Case(
        "inv2543: an RFC 2543 INVITE: no branch, no Max-Forwards",
        """INVITE sip:bot@$HOST:$PORT SIP/2.0
Via: SIP/2.0/UDP $HOST:5999
From: <sip:caller@example.com>;tag=$ID
To: <sip:bot@$HOST:$PORT>
Call-ID: $ID@torture
CSeq: 1 INVITE
Content-Type: application/sdp
Content-Length: $LEN

$SDP""",
        HANDLED_INVITE,
    ),
    Case(
        "zeromf: Max-Forwards 0 at its destination",
        """OPTIONS sip:bot@$HOST:$PORT SIP/2.0
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Max-Forwards: 0
From: <sip:caller@example.com>;tag=1
To: <sip:bot@$HOST:$PORT>
Call-ID: $ID@torture
CSeq: 1 OPTIONS
l: 0

""",
        _statuses(200),
    ),
    Case(
        "compact headers only, mixed case names, tabs",
        """INVITE sip:bot@$HOST:$PORT SIP/2.0
v:\tSIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
f:\t<sip:caller@example.com>;tag=$ID
t: <sip:bot@$HOST:$PORT>
i: $ID@torture
cseq: 1 INVITE
m: <sip:caller@$HOST:5999>
c: application/sdp
l: $LEN

$SDP""",
        HANDLED_INVITE,
    ),
    Case(
        "unksm2: an unknown scheme in To",
        """OPTIONS sip:bot@$HOST:$PORT SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: $ID@torture
CSeq: 3923239 OPTIONS
Max-Forwards: 70
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
l: 0

""",
        _statuses(200),
    ),
    Case(
        "bext01: an extension we do not support is required (420)",
        """OPTIONS sip:bot@$HOST:$PORT SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.net;tag=242etr
Max-Forwards: 6
Call-ID: $ID@torture
Require: nothingpreviouslyknown
CSeq: 8 OPTIONS
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
l: 0

""",
        _statuses(420),
    ),
    Case(
        "unkscm: an unknown Request-URI scheme (416)",
        """OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: $ID@torture
CSeq: 3923423 OPTIONS
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
l: 0

""",
        _statuses(416),
    ),
    Case(
        "novelsc: a URI scheme with unusual characters (416)",
        """OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: $ID@torture
CSeq: 3923423 OPTIONS
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
l: 0

""",
        _statuses(416),
    ),
    Case(
        "a lower-case method is another method",
        """invite sip:bot@$HOST:$PORT SIP/2.0
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
From: <sip:caller@example.com>;tag=1
To: <sip:bot@$HOST:$PORT>
Call-ID: $ID@torture
CSeq: 1 invite
l: 0

""",
        _statuses(405),
    ),
    Case(
        "an IPv6 Via and a UTF-8 display name",
        """OPTIONS sip:bot@$HOST:$PORT SIP/2.0
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Via: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3-111
From: "Ünïcödé ☎" <sip:caller@example.com>;tag=1
To: <sip:bot@$HOST:$PORT>
Call-ID: $ID@torture
CSeq: 1 OPTIONS
l: 0

""",
        _statuses(200),
    ),
    Case(
        "CANCEL of an INVITE we never saw (481)",
        "CANCEL sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace("Contact: <sip:torture@$HOST:5999>", "CSeq: 1 CANCEL")
        + "\nl: 0\n\n",
        _statuses(481),
    ),
    Case(
        "BYE in a dialog that does not exist (481)",
        "BYE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace("To: <sip:bot@$HOST:$PORT>", "To: <sip:bot@$HOST:$PORT>;tag=gone")
        + "\nCSeq: 2 BYE\nl: 0\n\n",
        _statuses(481),
    ),
    Case(
        "an ACK that matches nothing is absorbed",
        "ACK sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace("To: <sip:bot@$HOST:$PORT>", "To: <sip:bot@$HOST:$PORT>;tag=gone")
        + "\nCSeq: 1 ACK\nl: 0\n\n",
        DROP,
    ),
    Case(
        "unreason: a response with an unusual reason phrase matches no transaction",
        """SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое
Via: SIP/2.0/UDP $HOST:$PORT;branch=z9hG4bK$ID
Call-ID: $ID@torture
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0

""",
        DROP,
    ),
    Case(
        "an INVITE whose SDP names its media by host name (488: never a DNS lookup)",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + """
CSeq: 1 INVITE
Content-Type: application/sdp
Content-Length: $LEN

v=0
o=x 1 1 IN IP4 media.example.com
s=-
c=IN IP4 media.example.com
t=0 0
m=audio 4000 RTP/AVP 0
""",
        _statuses(488),
    ),
    Case(
        "an INVITE without SDP (no late offer here: 488)",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n" + _HEAD + "\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
        _statuses(488),
    ),
]

INVALID = [
    Case(
        "badinv01: empty header-list separators in Via, From and Contact",
        """INVITE sip:bot@$HOST:$PORT SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;;tag=134161461246
Max-Forwards: 7
Call-ID: $ID@torture
CSeq: 8 INVITE
Via: SIP/2.0/UDP $HOST:5999;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: $LEN
Content-Type: application/sdp

$SDP""",
        BAD,
    ),
    Case(
        "clerr: Content-Length larger than the message",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nContent-Type: application/sdp\nContent-Length: 9999\n\n$SDP",
        BAD,
    ),
    Case(
        "scalar02: a negative Content-Length",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nContent-Type: application/sdp\nContent-Length: -999\n\n$SDP",
        BAD,
    ),
    Case(
        "a huge Content-Length",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nContent-Length: 99999999999999999999\n\n$SDP",
        BAD,
    ),
    Case(
        "scalarlg: a CSeq number beyond 2**31",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 36893488147419103232 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "scalarlg: Max-Forwards 300",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace("Max-Forwards: 70", "Max-Forwards: 300")
        + "\nCSeq: 1 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "quotbal: an unterminated quoted display name",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace('From: "Torture"', 'From: "Torture')
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n$SDP",
        BAD,
    ),
    Case(
        "baddn: a display name with a comma and no quotes",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace('From: "Torture"', "From: Bell, Alexander")
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n$SDP",
        BAD,
    ),
    Case(
        "ltgtruri: a Request-URI in angle brackets",
        "INVITE <sip:bot@$HOST:$PORT> SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n$SDP",
        BAD,
    ),
    Case(
        "lwsruri: spaces inside the Request-URI",
        "INVITE sip:bot@$HOST:$PORT; lr SIP/2.0\n" + _HEAD + "\nCSeq: 1 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "lwsstart: several spaces between the parts of the request line",
        "INVITE  sip:bot@$HOST:$PORT  SIP/2.0\n" + _HEAD + "\nCSeq: 1 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "trws: spaces after the request line",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0  \n" + _HEAD + "\nCSeq: 1 OPTIONS\nl: 0\n\n",
        BAD,
    ),
    Case(
        "escruri: headers escaped into an INVITE's Request-URI",
        "INVITE sip:bot@$HOST:$PORT?Route=%3Csip:example.com%3E SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "badvers: SIP/7.0",
        "OPTIONS sip:bot@$HOST:$PORT SIP/7.0\n" + _HEAD + "\nCSeq: 1 OPTIONS\nl: 0\n\n",
        BAD,
    ),
    Case(
        "mismatch01: the CSeq method differs from the request's",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n" + _HEAD + "\nCSeq: 1 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "mismatch02: an unknown method with an INVITE CSeq",
        "NEWMETHOD sip:bot@$HOST:$PORT SIP/2.0\n" + _HEAD + "\nCSeq: 1 INVITE\nl: 0\n\n",
        BAD,
    ),
    Case(
        "bigcode: a status code of 4294967301",
        """SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP $HOST:$PORT;branch=z9hG4bK$ID
Call-ID: $ID@torture
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0

""",
        DROP,
    ),
    Case(
        "insuf: no Call-ID, From or To",
        """INVITE sip:bot@$HOST:$PORT SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP $HOST:5999;branch=z9hG4bK$ID
Content-Type: application/sdp
l: $LEN

$SDP""",
        BAD,
    ),
    Case(
        "no Via at all: nowhere to send a 400",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\nCall-ID: $ID@torture\nCSeq: 1 OPTIONS\nl: 0\n\n",
        DROP,
    ),
    Case(
        "a Via port beyond 65535",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace(":5999;branch", ":99999;branch")
        + "\nCSeq: 1 OPTIONS\nl: 0\n\n",
        BAD,
    ),
    Case(
        "a Contact port beyond 65535",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace("torture@$HOST:5999>", "torture@$HOST:70000>")
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n$SDP",
        BAD,
    ),
    Case(
        "a duplicated Call-ID",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCall-ID: other@torture\nCSeq: 1 OPTIONS\nl: 0\n\n",
        BAD,
    ),
    Case(
        "Unicode digits in Content-Length",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n" + _HEAD + "\nCSeq: 1 INVITE\nl: ²\n\n",
        BAD,
    ),
    Case(
        "Unicode digits in Max-Forwards",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD.replace("Max-Forwards: 70", "Max-Forwards: \u0667\u0660")  # Arabic-Indic 70
        + "\nCSeq: 1 OPTIONS\nl: 0\n\n",
        BAD,
    ),
    Case(
        "Unicode digits in the SDP port",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n"
        + "v=0\r\no=x 1 1 IN IP4 $HOST\r\ns=-\r\nc=IN IP4 $HOST\r\nt=0 0\r\nm=audio 4²00 RTP/AVP 0\r\n",
        BAD,
    ),
    Case(
        "Unicode digits in an SDP rtpmap",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n"
        + "v=0\r\nc=IN IP4 $HOST\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:² PCMU/8000\r\n",
        BAD,
    ),
    Case(
        "a huge header",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 OPTIONS\nX-Huge: "
        + "a" * 30_000
        + "\nl: 0\n\n",
        BAD,
    ),
    Case(
        "a huge body",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 INVITE\nc: application/sdp\nl: $LEN\n\n"
        + "a=x\r\n" * 10_000,
        BAD,
    ),
    Case(
        "too many headers",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n"
        + _HEAD
        + "\nCSeq: 1 OPTIONS\n"
        + "".join(f"X-{i}: y\n" for i in range(200))
        + "l: 0\n\n",
        BAD,
    ),
    Case(
        "a header line without a colon",
        "OPTIONS sip:bot@$HOST:$PORT SIP/2.0\n" + _HEAD + "\nCSeq: 1 OPTIONS\nno colon here\n\n",
        BAD,
    ),
    Case(
        "a NUL-filled datagram",
        "\x00" * 200,
        DROP,
    ),
    Case(
        "no end of headers",
        "INVITE sip:bot@$HOST:$PORT SIP/2.0\n" + _HEAD,
        DROP,
    ),
]
