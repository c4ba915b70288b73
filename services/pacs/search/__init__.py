"""Search domain: PS3.4 matching over the index, shared by QIDO-RS, C-FIND and /tools/find."""

from pacsbox.pacs.search.attributes import ATTRIBUTES, DEFAULT_FIELDS, Attribute, Field, attribute_for, parse_field
from pacsbox.pacs.search.matching import condition_for
from pacsbox.pacs.search.query import Filter, Match, SearchQuery, search
from pacsbox.pacs.search.results import dicom_json

__all__ = [
    "ATTRIBUTES",
    "DEFAULT_FIELDS",
    "Attribute",
    "Field",
    "Filter",
    "Match",
    "SearchQuery",
    "attribute_for",
    "condition_for",
    "dicom_json",
    "parse_field",
    "search",
]
