"""QIDO-RS query strings with hostile keys and values: a 400 naming the parameter, or an answer; never a crash.

The query is parsed as the route parses it (`parse_qido`), run against a real
index (`search`) and rendered as DICOM JSON (`dicom_json`), so wildcards,
quotes, escapes, ranges, huge numbers and odd Unicode reach the SQL layer.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pacsbox.core.errors import BadRequest
from pacsbox.pacs.dicomweb.qido import parse_qido
from pacsbox.pacs.search import dicom_json, search
from pacsbox.pacs.search.attributes import ATTRIBUTES
from pacsbox.pacs.store.ids import Level
from tests.fuzz.conftest import Index

_KEYWORDS = sorted({a.keyword for a in ATTRIBUTES.values()})
_NAMES = st.one_of(
    st.sampled_from(_KEYWORDS),
    st.sampled_from([f"{tag:08X}" for tag in ATTRIBUTES] + [f"{tag:08x}" for tag in ATTRIBUTES]),
    st.sampled_from(["limit", "offset", "fuzzymatching", "includefield", "orderby"]),
    st.text(max_size=20),
)
_SPECIAL = st.sampled_from(["*", "?", "%", "_", "\\", "'", '"', "-", "^", "=", ",", "\x00", ";", "--", "/*", "0x",
                            "99999999999999999999999", "-1", "1e309", "NaN", "20240101-", "-20240101", "Ä", "\u202e"])
_VALUES = st.lists(st.one_of(_SPECIAL, st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)),
                   max_size=6).map("".join)


@given(st.sampled_from([Level.STUDY, Level.SERIES, Level.INSTANCE]),
       st.lists(st.tuples(_NAMES, _VALUES), max_size=6),
       st.lists(st.one_of(st.sampled_from(_KEYWORDS + ["all", "00100010", "7FE00010"]), st.text(max_size=12)),
                max_size=4))
def test_qido_queries_answer_or_name_the_bad_parameter(
    index: Index, level: Level, params: list[tuple[str, str]], fields: list[str]
) -> None:
    params = params + [("includefield", ",".join(fields))]
    try:
        qido = parse_qido(level, params, {}, max_results=50)
    except BadRequest as error:
        assert error.message
        return
    extra = qido.include_all or any(tag not in ATTRIBUTES for tag in qido.tags)
    try:
        matches = index.run(search(qido.query, qido.tags, extra_tags=extra))
    except BadRequest as error:
        assert error.message
        return
    assert len(matches) <= 51
    for match in matches:
        item = dicom_json(match, qido.tags, include_all=qido.include_all, dicomweb_root="/pacs")
        assert isinstance(item, dict)
