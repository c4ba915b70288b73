"""What the wizard prints at the end: what changed, where to go, and how to trust the local CA."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pacsbox.wizard import pki
from pacsbox.wizard.answers import Answers, public_url_for
from pacsbox.wizard.apply import Outcome, certificate_names

__all__ = ["summary", "trust_guide"]


def _origins(answers: Answers) -> list[str]:
    """The public URL, localhost, and each private IPv4 address the certificate covers."""
    origins = [answers.public_url, public_url_for("localhost", answers.https_port)]
    for name in certificate_names(answers):
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            continue
        if address.version == 4 and address.is_private and not address.is_loopback:
            origins.append(public_url_for(name, answers.https_port))
    return list(dict.fromkeys(origins))


def trust_guide(ca_crt: Path) -> str:
    """How to make a device trust `ca.crt`, per OS and browser."""
    return f"""\
Trust the local CA once on every device that opens pacsbox ({ca_crt}):
  Windows      double-click ca.crt > Install Certificate > Local Machine >
               "Trusted Root Certification Authorities" (or, as administrator:
               certutil -addstore -f ROOT ca.crt). Edge and Chrome use it.
  macOS        sudo security add-trusted-cert -d -r trustRoot \\
                 -k /Library/Keychains/System.keychain ca.crt
               Safari and Chrome use it.
  Debian/Ubuntu  sudo cp ca.crt /usr/local/share/ca-certificates/pacsbox-ca.crt
                 && sudo update-ca-certificates
  Fedora/RHEL  sudo cp ca.crt /etc/pki/ca-trust/source/anchors/pacsbox-ca.crt
               && sudo update-ca-trust
  Chrome/Chromium on Linux  Settings > Privacy and security > Security >
               Manage certificates > Authorities > Import, tick "websites".
  Firefox (any OS)  Settings > Privacy & Security > Certificates >
               View Certificates > Authorities > Import, tick "websites".
  Android      Settings > Security > Encryption & credentials >
               Install a certificate > CA certificate.
  iPhone/iPad  open ca.crt (AirDrop or mail), install the profile in Settings,
               then General > About > Certificate Trust Settings > enable it.
Compare the SHA-256 fingerprint the device shows with the one above."""


def summary(answers: Answers, outcome: Outcome, ca_crt: Path) -> str:
    """The closing text: changes, warnings, password (once), URLs, the token page, CA trust."""
    lines = ["", "Changes:" if outcome.changes else "Nothing changed: the configuration already matches."]
    lines += [f"  {change}" for change in outcome.changes]
    lines += [f"WARNING: {warning}" for warning in outcome.warnings]
    if answers.password_generated:
        lines += [
            "",
            "Admin password (shown this once; only its hash is stored):",
            f"    {answers.admin_password}",
            "Store it in a password manager now: it cannot be read back, only replaced.",
        ]
    elif answers.admin_password is None:
        lines += ["", "Admin password: the one already set is kept (pacsbox setup changes it)."]
    lines += ["", "Open pacsbox at:"]
    for origin in _origins(answers):
        lines.append(f"  {origin}{answers.url_prefix}/app/explorer.html   (explorer; DICOMweb at {answers.url_prefix}/pacs)")
    lines += [
        f"Admin token page (create users and their one-off tokens): {answers.public_url}/auth/token",
        f"DICOM: AE title {answers.dicom_aet}, port {answers.dicom_port or 'off'}",
        "",
        f"Local CA: {ca_crt}  SHA-256 {pki.fingerprint(outcome.ca)}",
        f"Server certificate valid until {outcome.server.not_valid_after_utc:%Y-%m-%d} for "
        + ", ".join(pki.certificate_names(outcome.server)),
        trust_guide(ca_crt),
    ]
    return "\n".join(lines)
