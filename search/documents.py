"""The Elasticsearch index definition for firms (Kitsune's ``documents.py`` room).

Analysis needs no plugin: ``cjk_text`` is the standard tokenizer + ``cjk_width`` + ``lowercase`` +
``cjk_bigram``, the same bigram scheme ``search.text`` uses for the embedded index, so both
backends agree on what matches. A cluster with the IK or smartcn plugin can add word-level
``.words`` subfields (``word_analyzer="ik"`` / ``"smartcn"``), used only to improve ranking.

Fields computed in Python (``search.source.prepare_firm``): fingerprints, names_exact and the pinyin
keys — one implementation for both backends instead of an analyzer that would drift from it.
``name.keyword`` (width-folded, lower-cased) stays for sorting and aggregations.
"""

from __future__ import annotations

from elasticsearch.dsl import (
    Document,
    Double,
    Index,
    Integer,
    Keyword,
    Long,
    MetaField,
    Text,
    analyzer,
    normalizer,
    tokenizer,
)

from search.source import TEXT_FIELDS
from search.text import MIN_USCC_FRAGMENT

cjk_text = analyzer(
    "cjk_text", tokenizer="standard", filter=["cjk_width", "lowercase", "cjk_bigram"]
)
# A USCC fragment is found by phrase-matching its 6-grams: positions follow the characters, so a
# phrase of 6-grams is an exact substring (the contract: fragments of 6 or more characters).
uscc_fragment = analyzer(
    "uscc_fragment",
    tokenizer=tokenizer("uscc_6gram", "ngram", min_gram=MIN_USCC_FRAGMENT, max_gram=MIN_USCC_FRAGMENT,
                        token_chars=["letter", "digit"]),
    filter=["uppercase"],
)
exact = normalizer("exact", filter=["cjk_width", "lowercase"])

# word_analyzer option -> (index analyzer, search analyzer) of the plugin.
WORD_ANALYZERS = {"ik": ("ik_max_word", "ik_smart"), "smartcn": ("smartcn", "smartcn")}

class FirmDocument(Document):
    id = Long()
    uscc = Keyword(fields={"fragment": Text(analyzer=uscc_fragment)})
    name = Text(analyzer=cjk_text, fields={"keyword": Keyword(normalizer=exact)})
    former_names = Text(analyzer=cjk_text, fields={"keyword": Keyword(normalizer=exact)})
    description = Text(analyzer=cjk_text)
    main_products = Text(analyzer=cjk_text)
    technologies = Text(analyzer=cjk_text)
    region_names = Text(analyzer=cjk_text)
    names_exact = Keyword()
    fingerprints = Keyword()
    pinyin_full = Keyword()
    pinyin_initials = Keyword()
    stage = Keyword()
    tier = Keyword()
    stage_rank = Integer()
    region_code = Keyword()
    region_path = Keyword()
    region_city = Keyword()
    chains = Keyword()
    founded_year = Integer()
    revenue = Double()  # 万元
    rd_intensity = Double()
    revenue_growth = Double()

    class Meta:
        dynamic = MetaField("strict")  # a misspelt field fails loudly instead of growing the mapping


def firm_index(name: str, *, replicas: int = 1, word_analyzer: str | None = None) -> Index:
    if word_analyzer is not None and word_analyzer not in WORD_ANALYZERS:
        raise ValueError(f"word_analyzer: expected one of {sorted(WORD_ANALYZERS)}, got {word_analyzer!r}")
    index = Index(name)
    index.settings(number_of_shards=1, number_of_replicas=replicas, max_result_window=10_000)
    index.document(FirmDocument)
    return index


def index_body(*, replicas: int = 1, word_analyzer: str | None = None) -> dict:
    """``indices.create`` body: settings with the analyzers, and the mappings.

    With a word analyzer each text field gains a ``words`` subfield. This is done on the dict
    because the dsl mapping is declared once on the class, and the plugin is a per-cluster option.
    """
    body = firm_index("firms", replicas=replicas, word_analyzer=word_analyzer).to_dict()
    if word_analyzer:
        index_analyzer, search_analyzer = WORD_ANALYZERS[word_analyzer]
        for field in TEXT_FIELDS:
            body["mappings"]["properties"][field].setdefault("fields", {})["words"] = {
                "type": "text", "analyzer": index_analyzer, "search_analyzer": search_analyzer,
            }
    return body
