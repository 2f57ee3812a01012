"""Every relative link and #anchor in the README and in docs/ leads somewhere, and every\nrepository path they name exists."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from muscall.config import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...
# A file or folder of the repository named in the text (`conf/task/shard.yaml`, bench/run.py);
# one with a placeholder (`speed-<cpu|gpu>.json`, `<name>.yaml`) is not a path.
REPO_PATH = re.compile(r"(?<![\w/.<-])((?:src|conf|bench|tests|docs)/[\w./@-]*\w)(?![\w<{*|/-])")


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text lowercased, punctuation dropped, spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    kept = (
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LMN"
    )  # letters, marks, numbers, spaces, hyphens, underscores
    return "".join(kept).replace(" ", "-")


def _prose(page: Path) -> str:
    """The page without code blocks or inline code, where a link or heading is only text."""
    return INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))


def anchors(page: Path) -> set[str]:
    """The page's heading anchors, repeated headings numbered as GitHub does (-1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = github_slug(heading)
        count = seen.get(slug, 0)
        found.add(slug if count == 0 else f"{slug}-{count}")
        seen[slug] = count + 1
    return found


def links(page: Path) -> list[str]:
    return [target for target in LINK.findall(_prose(page)) if not EXTERNAL.match(target)]


def broken_link(page: Path, target: str) -> str | None:
    """Why `target`, as written in `page`, leads nowhere; None when it resolves."""
    path, _, anchor = target.partition("#")
    destination = (page.parent / unquote(path)).resolve() if path else page
    if not destination.exists():
        return f"{destination} does not exist"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
        return f"no heading #{anchor} in {destination.name}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    problems = [f"{target}: {why}" for target in links(page) if (why := broken_link(page, target))]
    assert not problems, f"{page.name}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_repository_path_named_exists(page):
    # Code and configs move; a page that names them must move with them.
    named = REPO_PATH.findall(page.read_text(encoding="utf-8"))
    assert not [path for path in named if not (PROJECT_ROOT / path).exists()]


def test_a_missing_repository_path_is_found():
    text = "see `conf/task/shard.yaml`, src/muscall/gone.py and `bench/results/speed-<cpu>.json`"
    assert REPO_PATH.findall(text) == ["conf/task/shard.yaml", "src/muscall/gone.py"]


def test_the_readme_leads_to_the_map_and_the_map_to_every_page():
    def targets(page: Path) -> set[Path]:
        return {(page.parent / t.partition("#")[0]).resolve() for t in links(page)}

    index = PROJECT_ROOT / "docs" / "index.md"
    assert index.resolve() in targets(PAGES[0])
    assert {p.resolve() for p in PAGES[1:] if p != index} <= targets(index)


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Export (`task=export`)", "export-taskexport"),
        ("Faults: kills, SIGTERM, SLURM", "faults-kills-sigterm-slurm"),
        (
            "Search your own music (`task=index`, `task=search`)",
            "search-your-own-music-taskindex-tasksearch",
        ),  # fmt: skip
        ("Recipes: small_data against cpu_demo", "recipes-small_data-against-cpu_demo"),
        ("MusCALL's SimCLR branch", "muscalls-simclr-branch"),
        ("Évaluation à l'échelle", "évaluation-à-léchelle"),
    ],
)
def test_anchors_follow_githubs_rules(heading, slug):
    assert github_slug(heading) == slug


def test_a_broken_link_and_a_broken_anchor_are_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
    page.write_text(
        "# Title\n\n[ok](other.md#a-section) [self](#title) [gone](missing.md) "
        "[bad anchor](other.md#no-such) [web](https://example.org/x)\n"
        "```\n[in code](nowhere.md)\n```\n`[inline](nowhere.md)`\n"
    )
    problems = {t: broken_link(page, t) for t in links(page)}
    assert set(problems) == {"other.md#a-section", "#title", "missing.md", "other.md#no-such"}
    assert problems["other.md#a-section"] is None and problems["#title"] is None
    assert "does not exist" in problems["missing.md"]
    assert "no heading #no-such" in problems["other.md#no-such"]
