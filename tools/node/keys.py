"""Key files: identity keys of a smeshing service and the devnet users' wallet keys.

A key file holds one 32-byte Ed25519 seed as hex, created with mode 0600 (never group or world
readable); an identity key lives in ``KEYS_DIR/<name>.key``, its PoST data in
``POST_DIR/<name>/`` (as ``smspec post init`` makes it). The devnet users' keys live in one JSON
file ``users.keys.json`` (mode 0600). Keys are generated from the operating system's randomness,
or, for reproducible runs (``devnet up --key-seed TEXT``), derived from a seed that is then public.
"""

from __future__ import annotations

import json
import os
import stat

KEY_SUFFIX = ".key"


class KeyError_(Exception):
    """A key file that is missing, malformed or readable by others."""


def _write_private(path: str, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write(text)


def new_seed(domain: bytes, key_seed: str | None, name: str) -> bytes:
    """A fresh seed (os.urandom), or BLAKE3(domain, key_seed, name) when a key seed is given
    (reproducible runs: such a key protects nothing)."""
    if key_seed is None:
        return os.urandom(32)
    from smspec.spec.crypto import hash32

    return hash32(domain, key_seed.encode(), name.encode())


def write_identity(keys_dir: str, name: str, seed: bytes) -> str:
    os.makedirs(keys_dir, mode=0o700, exist_ok=True)
    path = os.path.join(keys_dir, name + KEY_SUFFIX)
    _write_private(path, seed.hex() + "\n")
    return path


def check_private(path: str) -> None:
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")


def read_identities(keys_dir: str) -> list[tuple[str, bytes]]:
    """(name, seed) of every ``*.key`` file of a keys directory, by name."""
    if not os.path.isdir(keys_dir):
        raise KeyError_(f"keys directory {keys_dir!r} does not exist")
    out = []
    for entry in sorted(os.listdir(keys_dir)):
        if not entry.endswith(KEY_SUFFIX):
            continue
        path = os.path.join(keys_dir, entry)
        check_private(path)
        with open(path, encoding="utf-8") as f:
            text = f.read(200).strip()
        try:
            seed = bytes.fromhex(text)
        except ValueError:
            raise KeyError_(f"{path}: not a hex key") from None
        if len(seed) != 32:
            raise KeyError_(f"{path}: a key is 32 bytes, got {len(seed)}")
        out.append((entry[: -len(KEY_SUFFIX)], seed))
    if not out:
        raise KeyError_(f"no *{KEY_SUFFIX} file in {keys_dir!r}")
    return out


def write_users(path: str, seeds: dict[str, bytes]) -> None:
    _write_private(path, json.dumps({name: seed.hex() for name, seed in sorted(seeds.items())}, indent=1) + "\n")


def read_users(path: str) -> dict[str, bytes]:
    """The devnet users' wallet seeds (name -> seed) of a users key file."""
    if not os.path.isfile(path):
        raise KeyError_(f"users key file {path!r} does not exist")
    check_private(path)
    with open(path, encoding="utf-8") as f:
        text = f.read(1 << 20)
    try:
        data = json.loads(text)
        seeds = {str(name): bytes.fromhex(seed) for name, seed in data.items()}
    except (ValueError, AttributeError, TypeError):
        raise KeyError_(f"{path}: not a users key file") from None
    if any(len(seed) != 32 for seed in seeds.values()):
        raise KeyError_(f"{path}: every key is 32 bytes")
    return seeds
