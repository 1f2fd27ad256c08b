"""UTF-8 test vectors for group 6, written from the definition of UTF-8
(RFC 3629 section 4, Unicode chapter 3 table 3-7 "well-formed UTF-8 byte
sequences") and arranged like Markus Kuhn's stress test that Autobahn's
group 6 follows.

Each vector is (slug, title, bytes).  Whether it is valid, and where it
first goes wrong, is computed here by an independent reference validator
(first_bad) and cross-checked against Python's codec at import time.
"""

# Table 3-7: lead byte -> ranges of the continuation bytes that follow.
_TABLE = {}
for _b in range(0x00, 0x80):
    _TABLE[_b] = []
for _b in range(0xC2, 0xE0):
    _TABLE[_b] = [(0x80, 0xBF)]
_TABLE[0xE0] = [(0xA0, 0xBF), (0x80, 0xBF)]
for _b in list(range(0xE1, 0xED)) + [0xEE, 0xEF]:
    _TABLE[_b] = [(0x80, 0xBF), (0x80, 0xBF)]
_TABLE[0xED] = [(0x80, 0x9F), (0x80, 0xBF)]
_TABLE[0xF0] = [(0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)]
for _b in range(0xF1, 0xF4):
    _TABLE[_b] = [(0x80, 0xBF)] * 3
_TABLE[0xF4] = [(0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)]


def first_bad(data):
    """None if data is well-formed UTF-8.  Otherwise the index of the first
    byte after which no continuation can make the prefix valid; len(data)
    if the only defect is a character cut short at the end."""
    i, n = 0, len(data)
    while i < n:
        ranges = _TABLE.get(data[i])
        if ranges is None:
            return i
        for k, (lo, hi) in enumerate(ranges):
            j = i + 1 + k
            if j >= n:
                return n
            if not lo <= data[j] <= hi:
                return j
        i += 1 + len(ranges)
    return None


def _cp(c):
    return chr(c).encode("utf-8")


VECTORS = [
    # -- valid: some text
    ("kosme", "Greek word 'kosme'", "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()),
    ("hello-mixed", "Autobahn 6.2 text 'Hello-\u00b5@\u00df\u00f6\u00e4\u00fc"
     "\u00e0\u00e1-UTF-8!!'",
     "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode()),
    ("cjk-emoji", "CJK and emoji mixed",
     "\u4e2d\u6587 \U0001F600\U0001F680 \ud55c\uad6d\uc5b4".encode()),
    # -- valid: first possible sequence of each length
    ("first-1", "first 1-byte sequence U+0001 (U+0000 is 6.7.x)", _cp(0x01)),
    ("first-2", "first 2-byte sequence U+0080", _cp(0x80)),
    ("first-3", "first 3-byte sequence U+0800", _cp(0x800)),
    ("first-4", "first 4-byte sequence U+10000", _cp(0x10000)),
    # -- valid: last possible sequence of each length
    ("last-1", "last 1-byte sequence U+007F", _cp(0x7F)),
    ("last-2", "last 2-byte sequence U+07FF", _cp(0x7FF)),
    ("last-3", "last 3-byte sequence U+FFFF", _cp(0xFFFF)),
    ("last-4", "last 4-byte sequence U+10FFFF", _cp(0x10FFFF)),
    # -- valid: other boundaries
    ("before-surr", "U+D7FF, just below the surrogates", _cp(0xD7FF)),
    ("after-surr", "U+E000, just above the surrogates", _cp(0xE000)),
    ("fffd", "U+FFFD replacement character", _cp(0xFFFD)),
    ("f3-max", "U+FFFFF (F3 BF BF BF)", _cp(0xFFFFF)),
    ("f4-min", "U+100000 (F4 80 80 80)", _cp(0x100000)),
    ("nul", "U+0000 (JSON-escaped in the chat text)", _cp(0x00)),
    ("c1-control", "U+0085 and U+009F C1 controls", _cp(0x85) + _cp(0x9F)),
    # -- valid: noncharacters are well-formed UTF-8
    ("nonchar-fffe", "noncharacter U+FFFE", _cp(0xFFFE)),
    ("nonchar-fdd0", "noncharacters U+FDD0..U+FDEF",
     b"".join(_cp(c) for c in range(0xFDD0, 0xFDF0))),
    ("nonchar-planes", "noncharacters U+nFFFE/U+nFFFF of planes 1-16",
     b"".join(_cp(p * 0x10000 + 0xFFFE) + _cp(p * 0x10000 + 0xFFFF)
              for p in range(1, 17))),
    ("bom", "byte order mark U+FEFF inside the text", _cp(0xFEFF)),

    # -- invalid: unexpected continuation bytes
    ("cont-80", "lone continuation byte 0x80", b"\x80"),
    ("cont-bf", "lone continuation byte 0xBF", b"\xbf"),
    ("cont-2", "2 continuation bytes", b"\x80\xbf"),
    ("cont-3", "3 continuation bytes", b"\x80\xbf\x80"),
    ("cont-all", "all 64 continuation bytes 0x80..0xBF",
     bytes(range(0x80, 0xC0))),
    ("cont-after-ascii", "continuation byte after ASCII", b"a\x80"),
    ("cont-extra", "valid 2-byte sequence plus one continuation byte",
     b"\xc3\xa9\xa9"),
    # -- invalid: lonely start bytes followed by a space
    ("lonely-c0", "lonely start bytes C0..DF each followed by a space",
     b"".join(bytes([c, 0x20]) for c in range(0xC0, 0xE0))),
    ("lonely-e0", "lonely start bytes E0..EF each followed by a space",
     b"".join(bytes([c, 0x20]) for c in range(0xE0, 0xF0))),
    ("lonely-f0", "lonely start bytes F0..F7 each followed by a space",
     b"".join(bytes([c, 0x20]) for c in range(0xF0, 0xF8))),
    ("lonely-f8", "lonely start bytes F8..FB each followed by a space",
     b"".join(bytes([c, 0x20]) for c in range(0xF8, 0xFC))),
    ("lonely-fc", "lonely start bytes FC, FD each followed by a space",
     b"\xfc\x20\xfd\x20"),
    # -- invalid: last continuation byte missing (before the closing quote)
    ("trunc-2", "2-byte sequence without its last byte (C2)", b"\xc2"),
    ("trunc-3", "3-byte sequence without its last byte (E2 82)",
     b"\xe2\x82"),
    ("trunc-3b", "3-byte sequence with only its lead byte (E2)", b"\xe2"),
    ("trunc-4", "4-byte sequence without its last byte (F0 9F 98)",
     b"\xf0\x9f\x98"),
    ("trunc-max-2", "U+07FF without its last byte (DF)", b"\xdf"),
    ("trunc-max-3", "U+FFFF without its last byte (EF BF)", b"\xef\xbf"),
    ("trunc-max-4", "U+10FFFF without its last byte (F4 8F BF)",
     b"\xf4\x8f\xbf"),
    ("trunc-concat", "all the truncated sequences concatenated",
     b"\xc2\xe2\x82\xf0\x9f\x98\xdf\xef\xbf\xf4\x8f\xbf"),
    # -- invalid: impossible bytes
    ("byte-fe", "impossible byte FE", b"\xfe"),
    ("byte-ff", "impossible byte FF", b"\xff"),
    ("byte-fefeffff", "FE FE FF FF", b"\xfe\xfe\xff\xff"),
    ("byte-c0", "byte C0 (can only start an overlong)", b"\xc0"),
    ("byte-f5", "byte F5 (would start > U+10FFFF)", b"\xf5\x80\x80\x80"),
    # -- invalid: 5- and 6-byte forms (RFC 2279, not UTF-8 any more)
    ("five-byte", "5-byte form of U+200000 (F8 88 80 80 80)",
     b"\xf8\x88\x80\x80\x80"),
    ("six-byte", "6-byte form of U+4000000 (FC 84 80 80 80 80)",
     b"\xfc\x84\x80\x80\x80\x80"),
    ("six-byte-max", "6-byte form of U+7FFFFFFF (FD BF BF BF BF BF)",
     b"\xfd\xbf\xbf\xbf\xbf\xbf"),
    # -- invalid: above U+10FFFF
    ("above-max", "U+110000 (F4 90 80 80)", b"\xf4\x90\x80\x80"),
    ("above-max-f7", "U+1FFFFF (F7 BF BF BF)", b"\xf7\xbf\xbf\xbf"),
    # -- invalid: overlong forms of '/'
    ("overlong-slash-2", "overlong '/' in 2 bytes (C0 AF)", b"\xc0\xaf"),
    ("overlong-slash-3", "overlong '/' in 3 bytes (E0 80 AF)",
     b"\xe0\x80\xaf"),
    ("overlong-slash-4", "overlong '/' in 4 bytes (F0 80 80 AF)",
     b"\xf0\x80\x80\xaf"),
    ("overlong-slash-5", "overlong '/' in 5 bytes", b"\xf8\x80\x80\x80\xaf"),
    ("overlong-slash-6", "overlong '/' in 6 bytes",
     b"\xfc\x80\x80\x80\x80\xaf"),
    # -- invalid: maximum overlong sequences
    ("overlong-max-2", "maximum overlong 2 bytes U+007F (C1 BF)",
     b"\xc1\xbf"),
    ("overlong-max-3", "maximum overlong 3 bytes U+07FF (E0 9F BF)",
     b"\xe0\x9f\xbf"),
    ("overlong-max-4", "maximum overlong 4 bytes U+FFFF (F0 8F BF BF)",
     b"\xf0\x8f\xbf\xbf"),
    # -- invalid: overlong NUL
    ("overlong-nul-2", "overlong NUL in 2 bytes (C0 80)", b"\xc0\x80"),
    ("overlong-nul-3", "overlong NUL in 3 bytes (E0 80 80)", b"\xe0\x80\x80"),
    ("overlong-nul-4", "overlong NUL in 4 bytes (F0 80 80 80)",
     b"\xf0\x80\x80\x80"),
    # -- invalid: UTF-16 surrogates
    ("surr-d800", "single surrogate U+D800 (ED A0 80)", b"\xed\xa0\x80"),
    ("surr-db7f", "single surrogate U+DB7F (ED AD BF)", b"\xed\xad\xbf"),
    ("surr-db80", "single surrogate U+DB80 (ED AE 80)", b"\xed\xae\x80"),
    ("surr-dbff", "single surrogate U+DBFF (ED AF BF)", b"\xed\xaf\xbf"),
    ("surr-dc00", "single surrogate U+DC00 (ED B0 80)", b"\xed\xb0\x80"),
    ("surr-df80", "single surrogate U+DF80 (ED BE 80)", b"\xed\xbe\x80"),
    ("surr-dfff", "single surrogate U+DFFF (ED BF BF)", b"\xed\xbf\xbf"),
    ("surr-pair", "surrogate pair U+D800 U+DC00 in CESU-8 form",
     b"\xed\xa0\x80\xed\xb0\x80"),
    ("surr-pair-max", "surrogate pair U+DBFF U+DFFF in CESU-8 form",
     b"\xed\xaf\xbf\xed\xbf\xbf"),
    # -- invalid: defects after valid text (Autobahn 6.3 style)
    ("kosme-surr", "'kosme' + surrogate ED A0 80 + 'edited'",
     "\u03ba\u1f79\u03c3\u03bc\u03b5".encode() + b"\xed\xa0\x80edited"),
    ("long-then-bad", "300 valid bytes then FF",
     "\u00e9".encode() * 150 + b"\xff"),
]


def _check():
    seen = set()
    for slug, title, data in VECTORS:
        assert slug not in seen, slug
        seen.add(slug)
        try:
            data.decode("utf-8")
            py_ok = True
        except UnicodeDecodeError:
            py_ok = False
        assert py_ok == (first_bad(data) is None), (slug, data)


_check()

VALID = [v for v in VECTORS if first_bad(v[2]) is None]
INVALID = [v for v in VECTORS if first_bad(v[2]) is not None]
