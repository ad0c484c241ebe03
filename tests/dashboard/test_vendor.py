"""The vendored libraries are the ones refresh.py pins, recorded in VENDOR.md with their licences."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

from service.dashboard import DASHBOARD_DIR

VENDOR = DASHBOARD_DIR / "vendor"


def pinned():
    spec = importlib.util.spec_from_file_location("dashboard_vendor_refresh", VENDOR / "refresh.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.PACKAGES


def test_every_pinned_file_is_here_and_recorded_with_its_version_and_licence():
    record = (VENDOR / "VENDOR.md").read_text()
    for package in pinned():
        row = next(line for line in record.splitlines() if f"| {package.version} | {package.licence}" in line)
        assert package.name in row.lower(), row
        for target in package.files.values():
            assert (VENDOR / target).stat().st_size > 500, target
        assert f"LICENSE-{package.name}" in package.files.values()


def test_the_import_map_names_only_vendored_files():
    page = (DASHBOARD_DIR / "index.html").read_text()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S).group(1))["imports"]
    assert set(imports) == {"preact", "preact/hooks", "htm", "uplot"}
    vendored = {f"/dashboard/vendor/{target}" for package in pinned() for target in package.files.values()}
    assert set(imports.values()) <= vendored
