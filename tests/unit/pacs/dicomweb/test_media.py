"""Accept headers as DICOMweb clients write them."""

from __future__ import annotations

import pytest

from pacsbox.pacs.dicomweb.media import accepted


@pytest.mark.parametrize(
    "header",
    [
        'multipart/related; type="application/octet-stream"; transfer-syntax=*',
        "multipart/related; type=application/octet-stream; transfer-syntax=*",
        'multipart/related;type="application/octet-stream";transfer-syntax="*"',
        'Multipart/Related; Type="application/octet-stream"; Transfer-Syntax=*',
    ],
)
def test_quoted_and_unquoted_parameters_mean_the_same(header: str) -> None:
    (only,) = accepted([header])
    assert (only.multipart, only.part_type, only.transfer_syntax) == (True, "application/octet-stream", "*")


def test_merged_values_are_ordered_by_q_then_by_mention() -> None:
    ranges = accepted(['image/jpeg;q=0.5, multipart/related; type="image/jp2", text/x; a="b,c"', "*/*;q=0.1, image/gif;q=0"])
    assert [r.type for r in ranges] == ["multipart/related", "text/x", "image/jpeg", "*/*"]
    assert ranges[1].params == {"a": "b,c"}


@pytest.mark.parametrize("headers", [[], [""], ["nonsense"]])
def test_missing_or_unreadable_accept_means_anything(headers: list[str]) -> None:
    (only,) = accepted(headers)
    assert (only.type, only.multipart, only.allows("image/png")) == ("*/*", None, True)


def test_wildcards_match_by_kind() -> None:
    (image,) = accepted(['multipart/related; type="image/*"'])
    assert image.allows("image/jpeg") and not image.allows("application/octet-stream")
