"""Keys and certificates, made with `cryptography` alone: a local CA, the server certificate, JWT keys.

The CA signs one server certificate that names every host name and address
users type (subjectAltName), usable for TLS servers (and as a DICOM TLS client),
valid 825 days at most: the longest that Apple platforms accept for a
certificate from a CA a user installed. Installing the CA once on a device makes
every one of those names trusted there.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pacsbox.wizard.answers import JwtAlgorithm, Subject

__all__ = [
    "CA_DAYS",
    "RSA_BITS",
    "SERVER_DAYS",
    "PrivateKey",
    "algorithm_of",
    "certificate_names",
    "certificate_pem",
    "certificate_subject",
    "fingerprint",
    "issue_ca",
    "issue_server",
    "issued_by",
    "key_matches",
    "key_size",
    "load_certificate",
    "load_private_key",
    "new_jwt_key",
    "private_pem",
    "public_pem",
]

RSA_BITS = 3072
CA_DAYS = 3650
SERVER_DAYS = 825
_BACKDATE = dt.timedelta(hours=1)
"""Certificates start an hour early, so a device whose clock lags a little accepts them."""

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def new_jwt_key(algorithm: JwtAlgorithm) -> PrivateKey:
    """A token signing key: RSA 3072 for RS256, P-256 for ES256."""
    if algorithm is JwtAlgorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    return _rsa_key()


def algorithm_of(key: PrivateKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> JwtAlgorithm | None:
    """The JWT algorithm a key signs with, None for a key type pacsbox does not use."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return JwtAlgorithm.RS256
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return JwtAlgorithm.ES256
    return None


def key_size(key: object) -> int:
    """Bits of an RSA or EC key (0 for anything else)."""
    return getattr(key, "key_size", 0)


def _name(subject: Subject, common_name: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
    for oid, value in (
        (NameOID.ORGANIZATION_NAME, subject.organization),
        (NameOID.LOCALITY_NAME, subject.locality),
        (NameOID.COUNTRY_NAME, subject.country),
    ):
        if value:
            attributes.append(x509.NameAttribute(oid, value[:64] if oid != NameOID.COUNTRY_NAME else value))
    return x509.Name(attributes)


def issue_ca(subject: Subject, common_name: str, now: dt.datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A new self-signed CA (RSA 3072, ten years) that may sign server certificates only."""
    key = _rsa_key()
    name = _name(subject, common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now - _BACKDATE + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_server(
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    subject: Subject,
    names: tuple[str, ...],
    now: dt.datetime,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh server key and certificate covering `names`, signed by the CA, 825 days at most."""
    if not names:
        raise ValueError("a server certificate needs at least one name")
    key = _rsa_key()
    not_after = min(now - _BACKDATE + dt.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(subject, names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_encipherment=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _key_usage(**granted: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(
        ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
         "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"),
        False,
    )
    return x509.KeyUsage(**{**flags, **granted})


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def certificate_names(cert: x509.Certificate) -> tuple[str, ...]:
    """The subjectAltNames of `cert`, DNS names and IP addresses as text, in certificate order."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(str(entry.value) for entry in san if isinstance(entry, x509.DNSName | x509.IPAddress))


def certificate_subject(cert: x509.Certificate) -> Subject:
    """The organisation details in `cert`'s subject."""

    def first(oid: x509.ObjectIdentifier) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return Subject(
        country=first(NameOID.COUNTRY_NAME),
        locality=first(NameOID.LOCALITY_NAME),
        organization=first(NameOID.ORGANIZATION_NAME),
    )


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """Whether `ca_cert` signed `cert`."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Whether `key` is the private half of `cert`'s public key."""
    return cert.public_key() == key.public_key()


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as colon-separated hex, as browsers and OS dialogs show it."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_private_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an RSA or EC private key")
    return key


def private_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the file itself is mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
