"""The certificates and keys themselves: what browsers, nginx and the token server demand of them."""

import datetime as dt

import jwt
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from pacsbox.wizard import pki
from pacsbox.wizard.answers import JwtAlgorithm, Subject

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
NAMES = ("pacs.clinic.test", "localhost", "127.0.0.1", "::1", "192.168.1.50")


@pytest.fixture(scope="module")
def ca() -> tuple[pki.PrivateKey, x509.Certificate]:
    return pki.issue_ca(Subject("PL", "Wroclaw", "Clinic"), "pacsbox local CA test", NOW)


@pytest.fixture(scope="module")
def server(ca: tuple[pki.PrivateKey, x509.Certificate]) -> tuple[pki.PrivateKey, x509.Certificate]:
    return pki.issue_server(*ca, Subject("PL", "Wroclaw", "Clinic"), NAMES, NOW)


def test_the_ca_may_sign_certificates_and_nothing_below_it_may(ca: tuple[pki.PrivateKey, x509.Certificate]) -> None:
    key, cert = ca
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert pki.key_size(key) == 3072
    assert pki.issued_by(cert, cert)


def test_the_server_certificate_names_everything_for_tls_servers(
    ca: tuple[pki.PrivateKey, x509.Certificate], server: tuple[pki.PrivateKey, x509.Certificate]
) -> None:
    key, cert = server
    assert pki.certificate_names(cert) == NAMES
    assert pki.certificate_subject(cert) == Subject("PL", "Wroclaw", "Clinic")
    assert ExtendedKeyUsageOID.SERVER_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=825)
    assert cert.not_valid_before_utc <= NOW < cert.not_valid_after_utc
    assert pki.issued_by(cert, ca[1]) and pki.key_matches(cert, key)
    assert not pki.issued_by(cert, cert)


def test_a_server_certificate_never_outlives_its_ca(ca: tuple[pki.PrivateKey, x509.Certificate]) -> None:
    late = ca[1].not_valid_after_utc - dt.timedelta(days=10)
    _, cert = pki.issue_server(*ca, Subject(), ("localhost",), late)
    assert cert.not_valid_after_utc == ca[1].not_valid_after_utc


@pytest.mark.parametrize(("algorithm", "bits"), [(JwtAlgorithm.RS256, 3072), (JwtAlgorithm.ES256, 256)])
def test_jwt_keys_sign_and_verify_and_refuse_a_tampered_token(algorithm: JwtAlgorithm, bits: int) -> None:
    key = pki.new_jwt_key(algorithm)
    assert pki.algorithm_of(key) is algorithm and pki.key_size(key) == bits
    token = jwt.encode({"username": "ana", "iss": "pacsbox"}, pki.private_pem(key), algorithm=algorithm.value)
    assert jwt.decode(token, pki.public_pem(key), algorithms=[algorithm.value], issuer="pacsbox")["username"] == "ana"
    header, payload, signature = token.split(".")
    forged = ".".join((header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature))
    with pytest.raises(jwt.InvalidTokenError):
        jwt.decode(forged, pki.public_pem(key), algorithms=[algorithm.value])
