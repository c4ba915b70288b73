import pytest
from pacsbox.wizard.answers import (
    AnswerError,
    parse_aet,
    parse_country,
    parse_names,
    parse_origins,
    parse_port,
    parse_public_url,
    parse_url_prefix,
    public_url_for,
)


def test_names_are_normalised_and_deduplicated() -> None:
    assert parse_names(["LocalHost.", "127.0.0.1, [::1]", "0:0:0:0:0:0:0:1", "Pacs.Clinic.Test"]) == (
        "localhost", "127.0.0.1", "::1", "pacs.clinic.test",
    )


def test_international_names_become_punycode() -> None:
    assert parse_names(["bücher.example"]) == ("xn--bcher-kva.example",)


@pytest.mark.parametrize("bad", ["-bad.example", "under_score.example", "a..b", "x" * 64 + ".example", "http://x"])
def test_a_malformed_host_name_is_refused_and_named(bad: str) -> None:
    with pytest.raises(AnswerError, match="host name"):
        parse_names([bad])


@pytest.mark.parametrize(("text", "message"), [("", "1 to 16"), ("X" * 17, "1 to 16"), ("A\\B", "no backslash"), ("ÄE", "ASCII")])
def test_ae_titles_follow_the_dicom_rules(text: str, message: str) -> None:
    with pytest.raises(AnswerError, match=f"DICOM AE title.*{message}"):
        parse_aet(text)
    assert parse_aet("  PACSBOX  ") == "PACSBOX"


def test_ports_and_the_zero_that_means_off() -> None:
    assert parse_port("DICOM port", "0", allow_zero=True) == 0
    for bad in ("0", "65536", "https"):
        with pytest.raises(AnswerError, match="HTTPS port"):
            parse_port("HTTPS port", bad)


def test_country_is_two_letters_or_empty() -> None:
    assert parse_country(" pl ") == "PL"
    assert parse_country("") == ""
    with pytest.raises(AnswerError, match="country"):
        parse_country("Poland")


def test_public_url_is_an_https_origin() -> None:
    assert parse_public_url("https://pacs.clinic.test:8443/") == "https://pacs.clinic.test:8443"
    with pytest.raises(AnswerError, match="public URL.*https://"):
        parse_public_url("http://pacs.clinic.test")
    with pytest.raises(AnswerError, match="public URL.*without path"):
        parse_public_url("https://pacs.clinic.test/zhiva")


def test_public_url_for_leaves_out_443_and_brackets_ipv6() -> None:
    assert public_url_for("localhost", 443) == "https://localhost"
    assert public_url_for("::1", 8443) == "https://[::1]:8443"


def test_allowed_origins_are_a_comma_list_of_origins() -> None:
    assert parse_origins("https://a.example, http://b.example:8080/,") == ("https://a.example", "http://b.example:8080")
    assert parse_origins("") == ()
    with pytest.raises(AnswerError, match="allowed origin"):
        parse_origins("ftp://a.example")


def test_url_prefix_is_a_path_clear_of_the_other_routes() -> None:
    assert parse_url_prefix("serv/") == "/serv"
    assert parse_url_prefix("/zhiva") == "/zhiva"
    for bad in ("/", "/a b", "/auth", "/viewer/x"):
        with pytest.raises(AnswerError, match="URL prefix"):
            parse_url_prefix(bad)
