"""Refresh the dashboard's vendored libraries from the npm registry, without Node.js.

Each package is pinned below; its tarball is checked against the sha512 `integrity` of the registry's
metadata before any file is taken from it. Run from anywhere:

    .venv/bin/python service/static/dashboard/vendor/refresh.py

then update VENDOR.md if a version changed, and run tests/dashboard.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
HERE = Path(__file__).parent


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str
    files: dict[str, str] = field(default_factory=dict)  # path in the tarball's package/ -> file here


PACKAGES = (
    Package(
        "preact",
        "11.2.0",
        "MIT",
        {"dist/preact.mjs": "preact.mjs", "hooks/dist/hooks.mjs": "preact-hooks.mjs", "LICENSE": "LICENSE-preact"},
    ),
    Package("htm", "3.1.1", "Apache-2.0", {"dist/htm.mjs": "htm.mjs", "LICENSE": "LICENSE-htm"}),
    Package(
        "uplot",
        "1.6.32",
        "MIT",
        {"dist/uPlot.esm.js": "uPlot.esm.js", "dist/uPlot.min.css": "uPlot.min.css", "LICENSE": "LICENSE-uplot"},
    ),
)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
    return body


def tarball(package: Package) -> bytes:
    """The package's tarball, refused unless its sha512 matches the registry's integrity field."""
    metadata = json.loads(fetch(f"{REGISTRY}/{package.name}/{package.version}"))
    dist = metadata["dist"]
    if metadata.get("license") != package.licence:
        raise SystemExit(f"{package.name}: licence is now {metadata.get('license')!r}, not {package.licence!r}")
    algorithm, expected = dist["integrity"].split("-", 1)
    if algorithm != "sha512":
        raise SystemExit(f"{package.name}: integrity {algorithm}, expected sha512")
    body = fetch(dist["tarball"])
    actual = base64.b64encode(hashlib.sha512(body).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{package.name}@{package.version}: sha512 mismatch")
    return body


def extract(package: Package, body: bytes) -> None:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        for source, target in package.files.items():
            member = archive.extractfile(f"package/{source}")
            if member is None:
                raise SystemExit(f"{package.name}: {source} missing from the tarball")
            (HERE / target).write_bytes(member.read())
            print(f"{package.name}@{package.version}: {source} -> vendor/{target}")


def main() -> None:
    for package in PACKAGES:
        extract(package, tarball(package))


if __name__ == "__main__":
    main()
