"""The egress CA and host policy on their own: files, permissions, certificates, allowlist, ranges."""

from __future__ import annotations

import gzip
import ipaddress
import os
import stat
import zlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from distrust import paths
from distrust.gateway.egress.policy import EgressPolicy, forbidden_reason
from distrust.gateway.egress.proxy import RequestRefused, _split_authority, decode_body
from distrust.gateway.egress.tls import CA_CERT_FILE, CA_KEY_FILE, CAError, CertificateAuthority

# --- CA -------------------------------------------------------------------------------------------


def test_ca_is_created_in_data_dir_with_private_key_and_dir() -> None:
    ca = CertificateAuthority.load_or_create()
    ca_dir = paths.data_dir() / "ca"
    assert ca.ca_cert_path == ca_dir / CA_CERT_FILE
    assert stat.S_IMODE(ca_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((ca_dir / CA_KEY_FILE).stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(ca.ca_cert_path.read_bytes())
    assert cert.subject.rfc4514_string() == "CN=distrust egress CA"
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 3600 <= lifetime.days <= 3700


def test_ca_is_reused_on_second_load(tmp_path: Path) -> None:
    first = CertificateAuthority.load_or_create(tmp_path / "ca")
    second = CertificateAuthority.load_or_create(tmp_path / "ca")
    assert first.certificate.serial_number == second.certificate.serial_number


def test_ca_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    CertificateAuthority.load_or_create(tmp_path / "ca")
    os.chmod(tmp_path / "ca" / CA_KEY_FILE, 0o644)
    with pytest.raises(CAError, match=r"ca-key\.pem.*other users"):
        CertificateAuthority.load_or_create(tmp_path / "ca")


def test_ca_corrupt_or_half_present_is_a_clear_error(tmp_path: Path) -> None:
    CertificateAuthority.load_or_create(tmp_path / "ca")
    (tmp_path / "ca" / CA_CERT_FILE).write_text("not a certificate")
    with pytest.raises(CAError, match=r"ca\.pem: not a readable PEM certificate"):
        CertificateAuthority.load_or_create(tmp_path / "ca")
    (tmp_path / "ca" / CA_CERT_FILE).unlink()
    with pytest.raises(CAError, match="missing"):
        CertificateAuthority.load_or_create(tmp_path / "ca")


def test_leaf_names_the_host_and_is_cached(tmp_path: Path) -> None:
    ca = CertificateAuthority.load_or_create(tmp_path / "ca")
    leaf = ca.leaf_certificate("API.Postmarkapp.com.")
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["api.postmarkapp.com"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert leaf.issuer == ca.certificate.subject
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 31
    ip_leaf = ca.leaf_certificate("203.0.113.7")
    ip_san = ip_leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ip_san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("203.0.113.7")]
    assert ca.leaf_context("api.postmarkapp.com") is ca.leaf_context("API.postmarkapp.com")
    assert ca.leaf_context("a.example") is not ca.leaf_context("b.example")


# --- policy ---------------------------------------------------------------------------------------


def _resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError(f"no such host {host}")
        return answers[host]

    return resolve


def test_allowlist_exact_and_wildcard() -> None:
    policy = EgressPolicy(
        allow_hosts=("api.postmarkapp.com", "*.example.com"),
        resolver=_resolver(
            {"api.postmarkapp.com": ["50.31.156.6"], "a.b.example.com": ["93.184.216.34"], "example.com": []}
        ),
    )
    assert policy.check_host("api.postmarkapp.com", 443) is None
    assert policy.check_host("API.POSTMARKAPP.COM.", 443) is None
    assert policy.check_host("a.b.example.com", 443) is None
    denied = policy.check_host("example.com", 443)
    assert denied is not None and "allowlist" in denied
    assert "allowlist" in (policy.check_host("giftshop.club", 443) or "")
    assert "port 22" in (policy.check_host("api.postmarkapp.com", 22) or "")
    assert policy.decide("api.postmarkapp.com", 443).address == "50.31.156.6"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::",
        "::ffff:127.0.0.1",
    ],
)
def test_private_and_special_addresses_are_denied(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None
    policy = EgressPolicy(allow_hosts=("internal.test",), resolver=_resolver({"internal.test": [address]}))
    reason = policy.check_host("internal.test", 443)
    assert reason is not None and str(ipaddress.ip_address(address)) in reason


def test_one_private_answer_among_public_ones_is_denied() -> None:
    policy = EgressPolicy(
        allow_hosts=("mixed.test",), resolver=_resolver({"mixed.test": ["8.8.8.8", "10.0.0.1"]})
    )
    assert "10.0.0.1" in (policy.check_host("mixed.test", 443) or "")


def test_real_resolver_localhost_is_loopback_and_denied() -> None:
    reason = EgressPolicy(allow_hosts=("localhost",)).check_host("localhost", 443)
    assert reason is not None and "loopback" in reason


def test_private_allowed_when_switched_off_and_overrides_skip_dns() -> None:
    open_policy = EgressPolicy(allow_hosts=("127.0.0.1",), deny_private=False)
    assert open_policy.check_host("127.0.0.1", 443) is None
    override = EgressPolicy(allow_hosts=(), upstream_overrides={"api.postmarkapp.com": "http://127.0.0.1:9"})
    decision = override.decide("api.postmarkapp.com", 443)
    assert decision.allowed and decision.override == "http://127.0.0.1:9"


def test_unresolvable_host_is_denied_and_bad_override_rejected() -> None:
    policy = EgressPolicy(allow_hosts=("nowhere.test",), resolver=_resolver({}))
    assert "cannot resolve" in (policy.check_host("nowhere.test", 443) or "")
    with pytest.raises(ValueError, match="not an http"):
        EgressPolicy(allow_hosts=(), upstream_overrides={"a.test": "ftp://x"})


def test_dns_answers_are_cached_briefly() -> None:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"]

    policy = EgressPolicy(allow_hosts=("a.test",), resolver=resolve)
    policy.check_host("a.test", 443)
    policy.check_host("a.test", 443)
    assert calls == ["a.test"]
    expiring = EgressPolicy(allow_hosts=("a.test",), resolver=resolve, dns_cache_seconds=0)
    expiring.check_host("a.test", 443)
    expiring.check_host("a.test", 443)
    assert len(calls) == 3


# --- decoding and parsing -------------------------------------------------------------------------


def test_decode_body_gzip_deflate_and_limits() -> None:
    plain = b'{"To": "a@b.test"}'
    assert decode_body(gzip.compress(plain), "gzip", 1000) == plain
    assert decode_body(zlib.compress(plain), "deflate", 1000) == plain
    raw = zlib.compressobj(wbits=-15)
    assert decode_body(raw.compress(plain) + raw.flush(), "deflate", 1000) == plain
    assert decode_body(gzip.compress(gzip.compress(plain)), "gzip, gzip", 1000) == plain
    with pytest.raises(RequestRefused) as bomb:
        decode_body(gzip.compress(b"\0" * 100_000), "gzip", 1000)
    assert bomb.value.status == 413
    with pytest.raises(RequestRefused) as unknown:
        decode_body(b"xx", "zstd", 1000)
    assert unknown.value.status == 415
    with pytest.raises(RequestRefused) as broken:
        decode_body(b"not gzip", "gzip", 1000)
    assert broken.value.status == 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api.postmarkapp.com:443", ("api.postmarkapp.com", 443)),
        ("Example.COM", ("example.com", 80)),
        ("[::1]:8443", ("::1", 8443)),
    ],
)
def test_split_authority(text: str, expected: tuple[str, int]) -> None:
    assert _split_authority(text, default_port=80) == expected


@pytest.mark.parametrize("text", ["", "host:99999", "host:abc", "::1", "[::1", "a/b", "user@host"])
def test_split_authority_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        _split_authority(text, default_port=80)
