"""The local certificate authority that lets the egress proxy read a server's HTTPS traffic.

A sandboxed MCP server talks TLS to ``api.postmarkapp.com``; to see the ``Bcc`` field the proxy
has to terminate that TLS itself. It does so with a leaf certificate for the requested host,
signed by a CA that exists only on this machine and that only the sandbox trusts (through
``NODE_EXTRA_CA_CERTS``, ``SSL_CERT_FILE``, ``npm_config_cafile``, … pointing at
:attr:`CertificateAuthority.ca_cert_path`). The CA key never leaves ``data_dir()/ca`` and is
readable by its owner only: anyone holding it could intercept that user's traffic.

Leaves share one EC key per process and are cached per host, because minting is the slow part
of a new tunnel and a server usually talks to one or two hosts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import stat
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from distrust import paths
from distrust.fsutil import ReadError, atomic_write, read_bytes_capped

CA_COMMON_NAME = "distrust egress CA"
CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=30)
# Certificates start a day in the past so a sandbox whose clock lags a little still accepts them.
CLOCK_SKEW = dt.timedelta(days=1)
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
LEAF_CACHE_SIZE = 256
# Group/other permission bits that must never be set on the CA key.
_KEY_FORBIDDEN_BITS = stat.S_IRWXG | stat.S_IRWXO


class CAError(Exception):
    """The CA could not be created or loaded; the message names the file and what to do."""


def default_ca_dir() -> Path:
    """Where the CA lives unless a caller says otherwise: beside the audit log and advisories."""
    return paths.data_dir() / "ca"


class CertificateAuthority:
    """A CA key and certificate, and a per-host cache of TLS server contexts signed by it."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, ca_cert_path: Path) -> None:
        self._key = key
        self._cert = cert
        self.ca_cert_path = ca_cert_path
        self._cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        # One leaf key for every host: generating a key per host would double the cost of a first
        # tunnel, and the leaf key protects nothing the CA key does not already protect.
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key_pem = self._leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    @classmethod
    def load_or_create(cls, directory: Path | None = None) -> CertificateAuthority:
        """Load the CA from ``directory`` (default ``data_dir()/ca``), creating it on first use.

        A key file that others can read is refused rather than repaired: if it was ever
        readable, it may have been copied, and the only safe fix is a new CA.
        """
        ca_dir = directory if directory is not None else default_ca_dir()
        cert_path = ca_dir / CA_CERT_FILE
        key_path = ca_dir / CA_KEY_FILE
        if cert_path.exists() or key_path.exists():
            return cls._load(cert_path, key_path)
        return cls._create(ca_dir, cert_path, key_path)

    @classmethod
    def _create(cls, ca_dir: Path, cert_path: Path, key_path: Path) -> CertificateAuthority:
        try:
            ca_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(ca_dir, 0o700)
        except OSError as exc:
            raise CAError(f"{ca_dir}: cannot create the CA directory ({exc.strerror or exc})") from None
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
        now = dt.datetime.now(dt.UTC)
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            # The key first: a certificate without its key is a state _load reports as broken.
            atomic_write(key_path, key_pem, mode=0o600)
            atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        except OSError as exc:
            raise CAError(f"{ca_dir}: cannot write the CA files ({exc.strerror or exc})") from None
        return cls(key, cert, cert_path)

    @classmethod
    def _load(cls, cert_path: Path, key_path: Path) -> CertificateAuthority:
        for path in (cert_path, key_path):
            if not path.exists():
                raise CAError(
                    f"{path}: missing while its partner file exists; delete {path.parent} to create a new CA"
                )
        mode = stat.S_IMODE(key_path.stat().st_mode)
        if mode & _KEY_FORBIDDEN_BITS:
            raise CAError(
                f"{key_path}: the CA key is accessible to other users (mode {mode:o}); "
                f"delete {key_path.parent} to create a new CA"
            )
        try:
            cert = x509.load_pem_x509_certificate(read_bytes_capped(cert_path, 1 << 20))
        except (ReadError, ValueError) as exc:
            raise CAError(f"{cert_path}: not a readable PEM certificate ({exc})") from None
        try:
            key = serialization.load_pem_private_key(read_bytes_capped(key_path, 1 << 20), password=None)
        except (ReadError, ValueError, TypeError) as exc:
            raise CAError(f"{key_path}: not a readable unencrypted PEM key ({exc})") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CAError(f"{key_path}: expected an EC private key, found {type(key).__name__}")
        if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
            raise CAError(f"{key_path}: the key does not belong to {cert_path}")
        if cert.not_valid_after_utc <= dt.datetime.now(dt.UTC):
            raise CAError(f"{cert_path}: the CA expired on {cert.not_valid_after_utc:%Y-%m-%d}; delete it")
        return cls(key, cert, cert_path)

    def leaf_certificate(self, host: str) -> x509.Certificate:
        """Sign a server certificate for ``host`` (a DNS name or an IP address literal)."""
        host = host.rstrip(".").lower()
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            san = x509.DNSName(host)
        now = dt.datetime.now(dt.UTC)
        # A leaf must not outlive its CA, or clients reject the chain near the CA's end of life.
        not_after = min(now + LEAF_VALIDITY, self._cert.not_valid_after_utc)
        # CN is capped at 64 characters by X.509; the SAN carries the real name anyway.
        common_name = host if len(host) <= 64 else host[:64]
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )

    def cached_context(self, host: str) -> ssl.SSLContext | None:
        """The context for ``host`` if one is cached; never mints (so it is cheap on an event loop)."""
        key = host.rstrip(".").lower()
        with self._lock:
            cached = self._contexts.get(key)
            if cached is not None:
                self._contexts.move_to_end(key)
            return cached

    def leaf_context(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a leaf for ``host``; cached, least recently used out."""
        key = host.rstrip(".").lower()
        with self._lock:
            cached = self._contexts.get(key)
            if cached is not None:
                self._contexts.move_to_end(key)
                return cached
        context = self._build_context(self.leaf_certificate(key))
        with self._lock:
            self._contexts[key] = context
            self._contexts.move_to_end(key)
            while len(self._contexts) > LEAF_CACHE_SIZE:
                self._contexts.popitem(last=False)
        return context

    def _build_context(self, leaf: x509.Certificate) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # The proxy speaks HTTP/1.1 only; offering h2 would make clients send frames h11 cannot read.
        context.set_alpn_protocols(["http/1.1"])
        chain = leaf.public_bytes(serialization.Encoding.PEM) + self._cert_pem
        # ssl can load a chain only from files; they live a moment in a private directory.
        with tempfile.TemporaryDirectory(prefix="distrust-leaf-") as tmp:
            cert_file = Path(tmp) / "leaf.pem"
            key_file = Path(tmp) / "leaf-key.pem"
            cert_file.write_bytes(chain)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(self._leaf_key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context
