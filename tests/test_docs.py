"""The README and the docs pages: their examples run as written, and the README renders whole.

Every ```python block of README.md and docs/*.md is run; every ```sh block is run by bash (a
page's blocks in order, in one fresh directory), with this interpreter's ``secretumvault`` first
on PATH, unless an HTML comment
``<!-- not run: why -->`` stands right before it. A ```py block (the hvac example, which needs a
server) must be lines of examples/hvac_quickstart.py, which tests/server/test_example.py runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import NamedTuple

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
EXAMPLE = ROOT / "examples" / "hvac_quickstart.py"
BIN = Path(sys.executable).parent
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(\S.*?)\s*-->", re.S)


class Block(NamedTuple):
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    not_run: str | None  # the reason given in <!-- not run: ... -->, if any


def _blocks() -> list[Block]:
    found = []
    for page in PAGES:
        tokens = MarkdownIt("commonmark").parse(page.read_text())
        for i, token in enumerate(tokens):
            if token.type != "fence" or token.map is None:
                continue
            before = tokens[i - 1] if i else None
            reason = _NOT_RUN.search(before.content) if before and before.type == "html_block" else None
            lang = token.info.split()[0] if token.info else ""
            found.append(Block(page, token.map[0] + 1, lang, token.content, reason and reason.group(1)))
    return found


BLOCKS = _blocks()


def _ids(blocks: list[Block]) -> list[str]:
    return [f"{b.page.relative_to(ROOT)}:{b.line}" for b in blocks]


PYTHON = [b for b in BLOCKS if b.lang == "python"]
SHELL = [b for b in BLOCKS if b.lang == "sh" and b.not_run is None]
HVAC = [b for b in BLOCKS if b.lang == "py"]


@pytest.mark.parametrize("block", PYTHON, ids=_ids(PYTHON))
def test_python_examples_run(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples may create files such as vault.db
    exec(compile(block.code, f"{block.page}:{block.line}", "exec"), {})  # our own documentation, as written


# What the shell examples read, as a user would have it beside them.
_INPUTS = {
    "release.tar.gz": b"release 1.2\n",
    "app.tar.gz": b"app 1.0\n",
    "card.txt": b"card 4111 1111 1111 1111\n",
    "pass.txt": b"a long passphrase for the example store\n",
    "vault.toml": b'[vault]\ncrypto_backend = "auto"\n',
}


SHELL_PAGES = sorted({b.page for b in SHELL})


@pytest.mark.parametrize("page", SHELL_PAGES, ids=[p.name for p in SHELL_PAGES])
def test_shell_examples_run(page: Path, tmp_path: Path) -> None:
    # A page's blocks run in order in one shell and one directory, as a reader types them.
    if not (BIN / "secretumvault").exists():
        pytest.skip(
            f"no secretumvault script beside {sys.executable}: install the package (pip install -e .)"
        )
    if shutil.which("bash") is None:
        pytest.skip("no bash to run the shell examples")
    for name, data in _INPUTS.items():
        (tmp_path / name).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETUMVAULT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    script = "".join(
        f"echo '--- {b.page.name}:{b.line}' >&2\n{b.code.replace('.venv/bin/', f'{BIN}/')}"
        for b in SHELL
        if b.page == page
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr


def test_every_block_is_run_or_says_why() -> None:
    for block in BLOCKS:
        if block.lang == "sh" and block.not_run is not None:
            assert len(block.not_run) > 10, f"{block.page.name}:{block.line}: say why it is not run"
    assert len(PYTHON) >= 8 and len(SHELL) >= 5


@pytest.mark.parametrize("block", HVAC, ids=_ids(HVAC))
def test_hvac_blocks_are_the_tested_example(block: Block) -> None:
    example_lines = {line.strip() for line in EXAMPLE.read_text().splitlines()}
    if block.code.strip().startswith('--8<-- "examples/hvac_quickstart.py"'):
        return  # the docs page includes the file itself (pymdownx.snippets)
    for line in block.code.splitlines():
        assert line.strip() in example_lines, f"{block.page.name}:{block.line}: not in {EXAMPLE.name}: {line}"


# -- the README ---------------------------------------------------------------------------------


def test_readme_fits_on_a_page() -> None:
    assert README.stat().st_size < 12 * 1024


# The sections the README must have, in order (issue 24: what it is, the two commands first).
README_SECTIONS = ["SecretumVault", "Two commands", "Where liboqs comes from", "Python",
                   "hvac against the server", "Production", "Status and security"]  # fmt: skip


def _fence_faults(text: str, *, languages: bool = True) -> list[str]:
    """Fences that would swallow what follows: one never closed, or one without a language."""
    lines = text.splitlines()
    faults = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        closed = end - 1 > start and lines[end - 1].strip().startswith(token.markup)
        if not closed:
            faults.append(f"line {start + 1}: never closed")
        if languages and not token.info.strip():
            faults.append(f"line {start + 1}: no language (a stray fence?)")
    return faults


def _headings(text: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(text)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


def test_readme_renders_every_heading() -> None:
    text = README.read_text()
    assert _fence_faults(text) == []
    assert _headings(text) == README_SECTIONS


def test_a_stray_fence_is_caught() -> None:
    # The control: the README's old fault (an extra ``` after a block) swallowed the headings after it.
    broken = "# A\n\n```python\nx = 1\n```\n```\n\n## B\n\ntext\n"
    assert _headings(broken) == ["A"]
    assert _fence_faults(broken) == ["line 6: never closed", "line 6: no language (a stray fence?)"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_no_page_has_a_stray_fence(page: Path) -> None:
    # design.md keeps its plain ``` diagrams; every other page names each block's language.
    assert _fence_faults(page.read_text(), languages=page.name != "design.md") == []


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc (MkDocs) gives a heading."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    tokens = MarkdownIt("commonmark").parse(page.read_text())
    return {_slug(tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_links_to_docs_pages_exist(page: Path) -> None:
    tokens = MarkdownIt("commonmark").parse(page.read_text())
    links = [
        child.attrs["href"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "link_open"
    ]
    local = [str(href) for href in links if not re.match(r"^[a-z]+:", str(href))]
    if page == README:
        assert any(href.startswith("docs/") for href in local)
    for href in local:
        target, _, anchor = href.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name}: {href}"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), f"{page.name}: {href}: no such heading"
