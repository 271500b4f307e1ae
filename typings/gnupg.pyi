# Types of the parts of python-gnupg (https://github.com/vsajip/python-gnupg)
# that orgreg_sphinx uses; python-gnupg ships no type information.
from typing import Any

__version__: str

class ScanKeys(list[dict[str, Any]]): ...

class ImportResult:
    fingerprints: list[str]
    count: int
    results: list[dict[str, Any]]

class Verify:
    valid: bool
    status: str | None
    fingerprint: str | None
    pubkey_fingerprint: str | None
    key_id: str | None
    username: str | None
    signature_id: str | None
    timestamp: str | None
    trust_level: int | None
    problems: list[dict[str, Any]]
    stderr: str
    returncode: int | None
    def __bool__(self) -> bool: ...

class Crypt(Verify):
    ok: bool
    data: bytes
    def __str__(self) -> str: ...

class GPG:
    gnupghome: str | None
    def __init__(self, gpgbinary: str = ..., gnupghome: str | None = ...,
                 verbose: bool = ..., use_agent: bool = ..., keyring: str | None = ...,
                 options: list[str] | None = ..., secret_keyring: str | None = ...,
                 env: dict[str, str] | None = ...) -> None: ...
    def scan_keys_mem(self, key_data: str | bytes) -> ScanKeys: ...
    def scan_keys(self, filename: str) -> ScanKeys: ...
    def import_keys(self, key_data: str | bytes, extra_args: list[str] | None = ...,
                    passphrase: str | None = ...) -> ImportResult: ...
    def export_keys(self, keyids: str | list[str], secret: bool = ..., armor: bool = ...,
                    minimal: bool = ..., passphrase: str | None = ...,
                    expect_passphrase: bool = ..., output: str | None = ...) -> str | bytes: ...
    def list_keys(self, secret: bool = ..., keys: str | list[str] | None = ...,
                  sigs: bool = ...) -> ScanKeys: ...
    def verify(self, data: str | bytes, **kwargs: Any) -> Verify: ...
    def verify_data(self, sig_filename: str, data: bytes, **kwargs: Any) -> Verify: ...
    def decrypt(self, message: str | bytes, **kwargs: Any) -> Crypt: ...
