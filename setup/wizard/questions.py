"""The interactive wizard: questionary prompts only, each defaulting to what flags or the disk say.

Every answer is validated by the same parser the flags use, so the prompt
refuses exactly what `--non-interactive` would refuse, with the same words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import questionary
from pacsbox.wizard.answers import (
    AnswerError,
    Answers,
    JwtAlgorithm,
    Subject,
    parse_aet,
    parse_country,
    parse_names,
    parse_origins,
    parse_port,
    parse_public_url,
    parse_url_prefix,
    public_url_for,
)
from pacsbox.wizard.current import Current
from pacsbox.wizard.network import Candidate
from pacsbox.wizard.password import MIN_LENGTH, generate_password, weakness
from questionary import Choice

__all__ = ["ask", "confirm_force"]

_TYPE, _GENERATE = "type", "generate"


def _valid(parse: Callable[[str], Any]) -> Callable[[str], bool | str]:
    """A questionary validator from one of the answer parsers."""

    def check(text: str) -> bool | str:
        try:
            parse(text)
        except AnswerError as error:
            return str(error)
        return True

    return check


def confirm_force() -> bool:
    return questionary.confirm(
        "Start over? The current keys, certificates and .env are set aside (renamed *.old-TIME); "
        "devices must trust the new CA and every token stops working.",
        default=False,
    ).unsafe_ask()


def _password(defaults: Answers, current: Current) -> tuple[str | None, bool]:
    if defaults.admin_password is not None:
        return defaults.admin_password, defaults.password_generated
    if current.admin_hash and questionary.confirm("An admin password is set. Keep it?", default=True).unsafe_ask():
        return None, False
    how = questionary.select(
        "Admin password:",
        choices=[Choice("Type one", _TYPE), Choice("Generate a strong one (shown once)", _GENERATE)],
    ).unsafe_ask()
    if how == _GENERATE:
        return generate_password(), True
    while True:
        first = questionary.password(
            f"Admin password (at least {MIN_LENGTH} characters):",
            validate=lambda text: weakness(text) or True,
        ).unsafe_ask()
        again = questionary.password("The same password again:").unsafe_ask()
        if again == first:
            return first, False
        questionary.print("The two entries differ; once more.", style="fg:ansired")


def _subject(defaults: Subject) -> Subject:
    questionary.print("Organisation details for the certificates (Enter keeps the value shown):")
    country = questionary.text("Country (two letters, may be empty):", default=defaults.country,
                               validate=_valid(parse_country)).unsafe_ask()
    locality = questionary.text("City:", default=defaults.locality).unsafe_ask()
    organization = questionary.text("Organisation:", default=defaults.organization).unsafe_ask()
    return Subject(parse_country(country), locality.strip(), organization.strip())


def _names(defaults: tuple[str, ...], offered: list[Candidate]) -> tuple[str, ...]:
    choices = [Choice(f"{c.name}  ({c.note})" if c.note else c.name, c.name, checked=c.name in defaults) for c in offered]
    listed = {c.name for c in offered}
    choices += [Choice(name, name, checked=True) for name in defaults if name not in listed]
    while True:
        ticked = questionary.checkbox(
            "Names and addresses the certificate covers (space toggles, Enter accepts):", choices=choices
        ).unsafe_ask()
        extra = questionary.text(
            "Other names or addresses, comma-separated (Enter for none):", validate=_valid(lambda t: parse_names([t]))
        ).unsafe_ask()
        names = parse_names([*ticked, extra])
        if names:
            return names
        questionary.print("The certificate needs at least one name.", style="fg:ansired")


def _text(message: str, default: str, parse: Callable[[str], Any]) -> Any:
    return parse(questionary.text(message, default=default, validate=_valid(parse)).unsafe_ask())


def ask(defaults: Answers, current: Current, offered: list[Candidate]) -> Answers:
    """Ask every question, each defaulting to `defaults`; returns the user's answers."""
    password, generated = _password(defaults, current)
    subject = _subject(defaults.subject)
    names = _names(defaults.names, offered)
    https_port = _text("HTTPS port:", str(defaults.https_port), lambda t: parse_port("HTTPS port", t))
    url_default = defaults.public_url
    if url_default == public_url_for("localhost", defaults.https_port):
        url_default = public_url_for("localhost", https_port)
    public_url = _text("Public URL users open:", url_default, parse_public_url)
    url_prefix = _text("URL prefix of the PACS:", defaults.url_prefix, parse_url_prefix)
    origins = _text("Other browser origins allowed (comma-separated, e.g. a viewer's site):",
                    ",".join(defaults.allowed_origins), parse_origins)
    aet = _text("DICOM AE title:", defaults.dicom_aet, parse_aet)
    dicom_port = _text("DICOM port (0: off):", str(defaults.dicom_port),
                       lambda t: parse_port("DICOM port", t, allow_zero=True))
    algorithm = questionary.select(
        "JWT signing keys:",
        choices=[Choice("RS256: RSA 3072 (most compatible)", JwtAlgorithm.RS256),
                 Choice("ES256: ECDSA P-256 (smaller)", JwtAlgorithm.ES256)],
        default=defaults.jwt_algorithm,
    ).unsafe_ask()
    if current.jwt_algorithm and algorithm is not current.jwt_algorithm and not questionary.confirm(
        "Changing the algorithm replaces the JWT keys: every token issued so far stops working. Change it?",
        default=False,
    ).unsafe_ask():
        algorithm = current.jwt_algorithm
    return dataclasses.replace(
        defaults,
        admin_password=password,
        password_generated=generated,
        subject=subject,
        names=names,
        public_url=public_url,
        https_port=https_port,
        url_prefix=url_prefix,
        allowed_origins=origins,
        dicom_aet=aet,
        dicom_port=dicom_port,
        jwt_algorithm=algorithm,
    )
