"""C-FIND identifiers read as the shared search query, and identifiers built for remote servers."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from pacsbox.core.errors import BadRequest
from pacsbox.pacs.dimse.identifiers import parse_identifier, request_identifier
from pacsbox.pacs.store.ids import Level


def identifier(level: str, **keys: object) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def test_valued_keys_match_empty_keys_return() -> None:
    query, tags = parse_identifier(
        identifier("STUDY", PatientName="Doe^*", StudyDate="20240101-", StudyInstanceUID="", ModalitiesInStudy=""),
        max_results=50,
    )
    assert query.level is Level.STUDY and query.limit == 50
    assert {(f.attribute.keyword, f.value) for f in query.filters} == {("PatientName", "Doe^*"), ("StudyDate", "20240101-")}
    assert 0x0020000D in tags and 0x00080061 in tags


def test_uid_list_is_one_filter_and_universal_match_is_none() -> None:
    query, _ = parse_identifier(identifier("SERIES", SeriesInstanceUID=["1.2.3", "1.2.4"], Modality="*"), max_results=5)
    [only] = query.filters
    assert only.attribute.keyword == "SeriesInstanceUID" and only.value == "1.2.3\\1.2.4"


def test_lower_level_keys_are_not_matched_at_a_higher_level() -> None:
    query, tags = parse_identifier(identifier("STUDY", SOPInstanceUID="1.2.3"), max_results=5)
    assert query.filters == () and 0x00080018 in tags


def test_image_level_always_returns_the_sop_instance_uid() -> None:
    query, tags = parse_identifier(identifier("IMAGE", InstanceNumber="3"), max_results=5)
    assert query.level is Level.INSTANCE and tags[-1] == 0x00080018


@pytest.mark.parametrize("level", ["", "FRAME"])
def test_bad_level_is_refused(level: str) -> None:
    with pytest.raises(BadRequest, match="QueryRetrieveLevel"):
        parse_identifier(identifier(level), max_results=5)


def test_request_identifier_for_a_remote() -> None:
    ds = request_identifier(Level.SERIES, {"StudyInstanceUID": "1.2.3", "00080060": "CT"}, returned=(0x0020000E,))
    assert ds.QueryRetrieveLevel == "SERIES" and ds.StudyInstanceUID == "1.2.3" and ds.Modality == "CT"
    assert "SeriesInstanceUID" in ds and not ds.SeriesInstanceUID


def test_request_identifier_names_a_bad_key() -> None:
    with pytest.raises(BadRequest, match="NotAKeyword"):
        request_identifier(Level.STUDY, {"NotAKeyword": "x"})
    with pytest.raises(BadRequest, match="PatientName"):
        request_identifier(Level.STUDY, {"PatientName": ["a", "b"]})


def test_sequence_keys_are_returned_not_matched() -> None:
    code = Dataset()
    code.CodeValue = "P1"
    query, tags = parse_identifier(identifier("STUDY", ProcedureCodeSequence=[code], ReferencedStudySequence=[]),
                                   max_results=5)
    assert query.filters == () and {0x00081032, 0x00081110} <= set(tags)
