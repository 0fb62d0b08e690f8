"""The guide's cross-references are true: every relative link in README.md and docs/ names a file
that exists, and the README stays a short guide."""

import re
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
DOCS = [BASE / "README.md", *sorted((BASE / "docs").rglob("*.md"))]
# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def relative_links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text())  # code blocks hold shell, not links
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_there_are_docs_and_links():
    """The parametrised test below would pass vacuously on an empty list."""
    assert len(DOCS) >= 10
    assert sum(len(relative_links(p)) for p in DOCS) >= 30


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(BASE)))
def test_every_relative_link_points_to_an_existing_file(doc):
    broken = []
    for target in relative_links(doc):
        file_part = target.split("#", 1)[0]
        if not file_part:  # an anchor inside this page: the page exists
            continue
        if not (doc.parent / file_part).resolve().exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(BASE)} links to missing files: {broken}"


def test_no_doc_points_to_a_design_file_the_repo_does_not_have():
    assert not [p.name for p in DOCS if "DESIGN.md" in p.read_text()]


def test_the_readme_is_a_short_guide():
    assert (BASE / "README.md").stat().st_size <= 12_000
