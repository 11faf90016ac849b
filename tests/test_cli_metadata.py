"""What a user sees before the first command: license, Python floor, package metadata (issue 11)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_declared_license_file_is_there() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == "Apache-2.0"  # an SPDX expression (PEP 639)
    assert PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    # The same text as the Apache-2.0 license that travels with the Wycheproof vectors.
    assert text == (ROOT / "tests" / "vectors" / "wycheproof" / "LICENSE").read_text(encoding="utf-8")
    # PEP 639: no license classifier beside a license expression (setuptools refuses the pair).
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])


def test_python_classifiers_agree_with_the_floor() -> None:
    floor = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert floor is not None and int(floor.group(1)) == 11
    minors = sorted(
        int(c.rsplit(".", 1)[1])
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert minors and minors[0] == 11 and minors == list(range(minors[0], minors[-1] + 1))


def test_metadata_names_authors_and_links() -> None:
    assert PROJECT["authors"] and all(author.get("name") for author in PROJECT["authors"])
    assert PROJECT["urls"] and all(url.startswith("https://") for url in PROJECT["urls"].values())
    assert "Topic :: Security :: Cryptography" in PROJECT["classifiers"]
