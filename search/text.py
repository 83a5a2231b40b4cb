"""Chinese text helpers shared by every search backend.

One analysis for index, query and highlighting, so the three can never disagree:

* runs of Han characters become overlapping bigrams (an isolated character stays a unigram) —
  the same scheme as Elasticsearch's ``standard`` tokenizer + ``cjk_bigram`` filter. STACK_NOTES
  measured bigrams at recall 1.0 on firm names, where jieba words lost unknown brand names;
* runs of letters/digits become one lower-cased word ("Micro", "LED", "DL8P3M");
* everything else (punctuation, brackets, whitespace) separates tokens and is never searchable,
  so query-syntax characters like ``"`` ``:`` ``(`` ``*`` are plain text.

Width folding is NFKC (full-width "ＬＥＤ（" becomes "led("), applied character by character so
every token keeps the offsets of the original text — the highlighter needs them.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Collection, Iterable, NamedTuple

from pypinyin import lazy_pinyin
from pypinyin.seg.simpleseg import seg as pinyin_words

# Han ideographs: CJK Unified Ideographs, Extension A, Compatibility, Extensions B and later.
_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN = re.compile(f"[{_HAN_CHARS}]")
# A token run: Han characters, or letters/digits that are not Han (``\w`` minus "_" and Han).
_RUN = re.compile(f"[{_HAN_CHARS}]+|[^\\W_{_HAN_CHARS}]+")

# Company-form suffixes (企业组织形式), longest first so 股份有限公司 wins over 有限公司.
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团")

# Leading place names that do not tell firms apart: provincial-level divisions, then Jiangsu's
# prefecture-level cities and county-level cities (where the registry starts).
PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西",
    "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
JIANGSU_PLACES = (
    "南京", "无锡", "徐州", "常州", "苏州", "南通", "连云港", "淮安", "盐城", "扬州", "镇江", "泰州",
    "宿迁", "江阴", "宜兴", "常熟", "张家港", "昆山", "太仓", "溧阳", "新沂", "邳州", "海安", "启东",
    "如皋", "东台", "仪征", "高邮", "丹阳", "扬中", "句容", "兴化", "靖江", "泰兴",
)
_PLACE_PREFIX = re.compile(
    "^(?:{})(?:壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市|县|区)?".format(
        "|".join(sorted(PROVINCES + JIANGSU_PLACES, key=len, reverse=True))
    )
)

MAX_TOKEN_CHARS = 40  # longer "words" are noise (base64, URLs); Lucene drops them too


class Token(NamedTuple):
    """A searchable term with its [start, end) character offsets in the original text."""

    text: str
    start: int
    end: int


def normalize(text: str) -> str:
    """NFKC width folding + lower case + collapsed whitespace: the form queries are compared in."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def exact_key(name: str) -> str:
    """Key for exact-name matching: the normalised name (punctuation kept, unlike fingerprints)."""
    return normalize(name)


def _alnum(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text or "").lower() if c.isalnum())


def fingerprint(name: str) -> str:
    """Name fingerprint (as in Aleph/yente): what is left once form and place are ignored.

    "无锡芯动生物科技有限公司", "无锡市芯动生物科技(有限公司)" and "芯动生物科技" all give
    "芯动生物科技". Suffixes and prefixes are stripped repeatedly ("江苏省苏州市…集团有限公司") but
    never down to nothing: "苏州有限公司" keeps "苏州". Returns "" for text without letters.
    """
    core = _alnum(name)
    changed = True
    while changed:
        changed = False
        for suffix in COMPANY_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix):
                core = core[: -len(suffix)]
                changed = True
    while (match := _PLACE_PREFIX.match(core)) and 0 < match.end() < len(core):
        core = core[match.end():]
    return core


@functools.lru_cache(maxsize=65536)
def _word_pinyin(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word))


def cached_lazy_pinyin(text: str) -> list[str]:
    """``lazy_pinyin(text)``, converting each word of pypinyin's own segmentation once per process.

    pypinyin cuts a text into words (its phrase dictionary, longest match first) and converts each
    word on its own, so converting the same words one by one gives the same syllables. Converting
    was half the CPU of preparing a firm for the index (0.18 of 0.34 ms), and firm names are made
    of a few hundred distinct words (698 in 186,000 names). tests/search/test_text.py checks the
    two agree."""
    return [syllable for word in pinyin_words(text) for syllable in _word_pinyin(word)]


def _pinyin_items(clean: str) -> list[tuple[int, str, bool]]:
    """(start offset, syllable or Latin run, is Han) for alnum-only text, from ONE pypinyin call.

    pypinyin costs ~0.5 ms a call, so a name is converted once and its core, its initials and its
    full pinyin are all cut from this list. pypinyin returns one item per Han character and one
    per run of other characters; if a rare character breaks that pattern we fall back to one call
    per character.
    """
    items, syllables = [], cached_lazy_pinyin(clean)
    for run in _RUN.finditer(clean):
        if _HAN.match(run.group()):
            items += [(run.start() + k, char, True) for k, char in enumerate(run.group())]
        else:
            items.append((run.start(), run.group(), False))
    if len(items) != len(syllables):
        syllables = ["".join(lazy_pinyin(text)) for _, text, _ in items]
    return [(start, syllable, han) for (start, _, han), syllable in zip(items, syllables)]


def _join(items, initials: bool, start: int = 0, end: int | None = None) -> str:
    picked = (s[:1] if han and initials else s for at, s, han in items
              if at >= start and (end is None or at < end))
    return "".join(c for c in "".join(picked) if c.isascii() and c.isalnum())


def pinyin_full(text: str) -> str:
    """Toneless pinyin run together: 无锡芯动 -> "wuxixindong" (letters and digits kept as is)."""
    return _join(_pinyin_items(_alnum(text)), initials=False)


def pinyin_initials(text: str) -> str:
    """First letter of each syllable: 无锡芯动 -> "wxxd" (letter/digit runs are kept whole)."""
    return _join(_pinyin_items(_alnum(text)), initials=True)


def pinyin_keys(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Full pinyin and initials of each name and of its fingerprint core, without duplicates.

    The core matters: "xindong" and "xdsw" find 无锡芯动生物科技有限公司 as well as "wuxixindong"
    and "wxxd" do, because a pinyin query is matched as a prefix of any of these keys.
    """
    full: list[str] = []
    initials: list[str] = []
    for name in names:
        clean = _alnum(name)
        items = _pinyin_items(clean)
        core = fingerprint(name)
        start = clean.find(core)  # the core is what is left of ``clean`` after stripping
        for keys, is_initials in ((full, False), (initials, True)):
            for key in (_join(items, is_initials), _join(items, is_initials, start, start + len(core))):
                if key and key not in keys:
                    keys.append(key)
    return full, initials


@functools.lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    return unicodedata.normalize("NFKC", char).lower()


_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")  # NFKC: U+FF01-FF5E -> U+0021-007E, U+3000 -> space


def _half_width(match: re.Match) -> str:
    char = match.group()
    return " " if char == "\u3000" else chr(ord(char) - 0xFEE0)


def _same_span(start: int, end: int) -> tuple[int, int]:
    return start, end


def _fold(text: str):
    """NFKC + lower case, and a function mapping a [start, end) span of the result back to ``text``."""
    folded = text.lower()
    if len(folded) == len(text) and unicodedata.is_normalized("NFKC", folded):
        return folded, _same_span  # the common case: nothing moved
    if _FULL_WIDTH.search(text):
        # Full-width ASCII forms and the ideographic space (the ，：（） of Chinese prose) fold one
        # character to one: 5 µs for a description with three commas, the loop below 21 µs.
        folded = _FULL_WIDTH.sub(_half_width, text).lower()
        if len(folded) == len(text) and unicodedata.is_normalized("NFKC", folded):
            return folded, _same_span
    # Fold character by character so each folded character knows where it came from.
    pieces = [_fold_char(char) for char in text]
    offsets = [index for index, piece in enumerate(pieces) for _ in piece]
    return "".join(pieces), lambda start, end: (offsets[start], offsets[end - 1] + 1)


def tokenize(text: str) -> list[Token]:
    """Han bigrams and whole letter/digit words, with offsets into ``text`` (see module doc)."""
    folded, span = _fold(text or "")
    tokens: list[Token] = []
    for run in _RUN.finditer(folded):
        word, start = run.group(), run.start()
        if not _HAN.match(word):
            if len(word) <= MAX_TOKEN_CHARS:
                tokens.append(Token(word, *span(start, run.end())))
        elif len(word) == 1:
            tokens.append(Token(word, *span(start, start + 1)))
        else:
            tokens += [Token(word[k:k + 2], *span(start + k, start + k + 2)) for k in range(len(word) - 1)]
    return tokens


def terms(text: str) -> list[str]:
    """The token texts of ``text`` in order (duplicates kept: term frequency matters to BM25).

    The texts ``tokenize`` gives, without its offsets: indexing a firm calls this for every text
    field, and building a Token and its span per bigram was a quarter of a 1,000,000-firm build's
    CPU (tests/search/test_text.py checks both agree)."""
    folded = text.lower() if text else ""
    if len(folded) != len(text or "") or not unicodedata.is_normalized("NFKC", folded):
        folded = "".join(_fold_char(char) for char in text)
    out: list[str] = []
    for word in _RUN.findall(folded):
        if not _HAN.match(word):
            if len(word) <= MAX_TOKEN_CHARS:
                out.append(word)
        elif len(word) == 1:
            out.append(word)
        else:
            out += map(str.__add__, word[:-1], word[1:])
    return out


@dataclass(frozen=True)
class AnalyzedQuery:
    """A user query taken apart once, for every matcher a backend runs.

    text: normalised query; terms: distinct tokens that must all match some text field;
    isolated: the terms that are one Han character with no Han neighbour in the query ("IC卡",
    "LED 灯", "3号"), each matched by any token containing it: in a text the character is part of a
    bigram ("IC卡芯片": 卡芯), so the unigram alone would find only texts where it stands alone too;
    exact / fingerprint: keys for whole-name matches; pinyin: the query run together when it is
    only Latin letters (a pinyin prefix candidate); uscc: the query as an upper-case code when it
    is 6 or more characters of the USCC alphabet (a USCC or a fragment of one).
    """

    text: str
    terms: tuple[str, ...]
    exact: str
    fingerprint: str
    pinyin: str
    uscc: str
    isolated: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing searchable (empty or punctuation only): the caller browses instead."""
        return not (self.terms or self.fingerprint or self.pinyin or self.uscc)


_PINYIN_QUERY = re.compile(r"^[a-z]+(?: [a-z]+)*$")
_CODE_QUERY = re.compile(r"^[0-9a-z]+(?:[ \-][0-9a-z]+)*$")
# GB 32100 codes use digits and upper-case letters except I, O, Z, S, V.
_USCC_CHARS = re.compile(r"^[0-9A-HJ-NP-RT-UW-Y]+$")
MIN_USCC_FRAGMENT = 6


def analyze_query(query: str) -> AnalyzedQuery:
    text = normalize(query)
    compact = text.replace(" ", "").replace("-", "")
    pinyin = compact if _PINYIN_QUERY.match(text) and len(compact) >= 2 else ""
    uscc = compact.upper() if _CODE_QUERY.match(text) and len(compact) >= MIN_USCC_FRAGMENT else ""
    if not _USCC_CHARS.match(uscc):
        uscc = ""
    distinct = tuple(dict.fromkeys(terms(text)))
    return AnalyzedQuery(
        text=text,
        terms=distinct,
        exact=exact_key(text),
        fingerprint=fingerprint(text),
        pinyin=pinyin,
        uscc=uscc,
        isolated=tuple(term for term in distinct if _is_han_character(term)),
    )


def text_matches(tokens: Collection[str], query: AnalyzedQuery) -> bool:
    """The text rule on one text's tokens, as a scan checks it: every term is a token, except an
    isolated character, which is inside some token (its unigram or a bigram)."""
    return all(term in tokens if term not in query.isolated else any(term in token for token in tokens)
               for term in query.terms)


def text_without_isolated(query: AnalyzedQuery) -> str:
    """The query text with its isolated characters blanked out, for an engine that analyses the
    text itself (Elasticsearch's multi_match): it matches the other terms, the caller the rest."""
    text = query.text
    for character in query.isolated:
        text = re.sub(f"(?<![{_HAN_CHARS}]){re.escape(character)}(?![{_HAN_CHARS}])", " ", text)
    return text


def isolated_regex(character: str) -> str:
    """The terms an isolated query character matches, as a regular expression over whole terms
    (the same in tantivy and Lucene): the character alone or in a Han bigram, first or second."""
    return f"{character}.?|.{character}"


def _occurrences(text: str, term: str):
    at = text.find(term)
    while at != -1:
        yield at
        at = text.find(term, at + 1)


def _is_han_character(term: str) -> bool:
    """One Han character: as a query term, an isolated one (AnalyzedQuery.isolated)."""
    return len(term) == 1 and bool(_HAN.match(term))


@functools.lru_cache(maxsize=4096)
def _is_han_bigram(term: str) -> bool:
    """Two Han characters (cached: the character class spans several Unicode blocks, and
    highlighting a page asked this ~100 times per query term)."""
    return len(term) == 2 and bool(_HAN.match(term[0])) and bool(_HAN.match(term[1]))


def highlight(text: str, wanted: Iterable[str], fragment_chars: int | None = None,
              max_fragments: int = 3) -> list[str]:
    """HTML fragments of ``text`` with every token in ``wanted`` wrapped in ``<em>…</em>``.

    The rest is HTML-escaped. Overlapping bigram hits merge into one ``<em>`` (芯动 + 动生 + 生物
    -> ``<em>芯动生物</em>``). With ``fragment_chars`` a long text gives up to ``max_fragments``
    windows around the hits, in text order; without it the whole text is one fragment.
    Returns [] when nothing matched.
    """
    folded, span = _fold(text)
    wanted = {term for term in wanted if term in folded}
    if not wanted:
        return []  # cheap exit: most fields of a hit do not contain the query
    # One Han character is an isolated query term, which matches any token containing it (see
    # AnalyzedQuery): every occurrence of it is marked, like every occurrence of a Han bigram,
    # each of which is a token — neither needs the text tokenized.
    found_anywhere = {term for term in wanted if _is_han_bigram(term) or _is_han_character(term)}
    hits = sorted((at, at + len(term)) for term in found_anywhere for at in _occurrences(folded, term))
    if span is not _same_span:
        hits = [span(start, end) for start, end in hits]
    words = wanted - found_anywhere  # Latin/digit words: tokens, found by tokenizing
    if words:
        hits = sorted(hits + [(token.start, token.end) for token in tokenize(text) if token.text in words])
    spans: list[list[int]] = []
    for start, end in hits:
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        return []
    if fragment_chars is None or len(text) <= fragment_chars:
        windows = [[0, len(text)]]
    else:
        windows = []
        for start, end in spans:
            if windows and start < windows[-1][1]:  # already shown; never cut a hit in two
                windows[-1][1] = max(windows[-1][1], end)
                continue
            left = max(0, start - max(0, fragment_chars - (end - start)) // 2)
            if windows:
                left = max(left, windows[-1][1])  # windows never overlap
            windows.append([left, min(len(text), max(end, left + fragment_chars))])
    fragments = []
    for left, right in windows[:max_fragments]:
        parts, cursor = [], left
        for start, end in spans:
            start, end = max(start, left), min(end, right)
            if start >= end:
                continue
            parts.append(html.escape(text[cursor:start]))
            parts.append(f"<em>{html.escape(text[start:end])}</em>")
            cursor = end
        parts.append(html.escape(text[cursor:right]))
        fragments.append("".join(parts))
    return fragments
