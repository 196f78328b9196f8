"""Find the real encoding of a Chinese page whose declared charset may be wrong.

Sites declare utf-8 and send GBK, declare gb2312 and use characters only GB18030 has, or send
Big5 with no charset at all. The declared encoding is kept when the body decodes with it
strictly (and it is not a single-byte charset over non-ASCII bytes, which always "decodes");
otherwise UTF-8 is tried, then charset-normalizer chooses among the Chinese encodings the
bytes are valid in (GB18030 and Big5 overlap, so validity alone cannot choose).
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

CANDIDATES = ("utf_8", "gb18030", "big5", "big5hkscs")
_SINGLE_BYTE = {"ascii", "latin_1", "iso8859_1", "cp1252", "iso8859_15"}
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}  # supersets


def codec_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect(body: bytes, declared: str | None = None) -> str:
    """The encoding to decode `body` with: the declared one if it fits, else the best guess."""
    codec = codec_name(declared)
    if codec and _decodes(body, codec) and not (codec in _SINGLE_BYTE and not body.isascii()):
        return codec
    wider = _WIDER.get(codec or "")
    if wider and _decodes(body, wider):
        return wider
    if _decodes(body, "utf_8"):
        return "utf_8"
    valid = [c for c in CANDIDATES if _decodes(body, c)]
    if len(valid) == 1:
        return valid[0]
    best = from_bytes(body, cp_isolation=valid or list(CANDIDATES)).best()
    if best is not None:
        return codec_name(best.encoding) or best.encoding
    return "gb18030"  # decodes any byte string; the page is quarantined if nothing matches


def decode(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a page's bytes; undecodable bytes are replaced, never fatal."""
    encoding = detect(body, declared)
    return body.decode(encoding, errors="replace"), encoding
