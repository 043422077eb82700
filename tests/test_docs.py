"""The documentation: the front door stays short, every folder it sends a reader to has its README,
and every relative link and file path in the READMEs leads somewhere."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "tests" / "README.md", ROOT / "experiments" / "README.md",
           *sorted((ROOT / "keras_gan").glob("*/README.md"))]


def test_the_front_door_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 320


def test_every_link_leads_to_a_file():
    broken = []
    for readme in READMES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme.read_text()):
            if not target.startswith(("http://", "https://")) and not (readme.parent / target).exists():
                broken.append(f"{readme.relative_to(ROOT)}: {target}")
    assert broken == []


def test_every_package_path_named_in_the_docs_exists():
    missing = []
    for readme in READMES:
        for path in re.findall(r"(?<![\w/.])((?:keras_gan|tests)/[\w/]+\.py)", readme.read_text()):
            if not (ROOT / path).exists():
                missing.append(f"{readme.relative_to(ROOT)}: {path}")
    assert missing == []


def test_the_subpackages_a_newcomer_opens_first_have_a_readme():
    for folder in ("models", "data", "training", "evaluation", "experiments", "benchmarks"):
        assert (ROOT / "keras_gan" / folder / "README.md").is_file(), folder
