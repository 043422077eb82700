"""The package's layers contract (setup.cfg's [importlinter]): commands on top, every layer importing
only the layers beneath it, and no import cycle anywhere. Anyone can run the same check:

    lint-imports          # in the repository's root, inside the virtual environment

Every import counts, at the top of a module or inside a function. These tests run it, check that it
catches a layer importing upwards, and that every module of the package is inside the contract.
"""

import ast
import configparser
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "keras_gan"


def lint(folder) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
               "sys.exit(lint_imports_command())", "--no-cache"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})


def layers() -> list[set[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    rows = config["importlinter:contract:layers"]["layers"].strip().splitlines()
    return [{name.strip() for name in row.split("|")} for row in rows]


def test_the_package_keeps_its_layers_and_has_no_import_cycle():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_the_contract_catches_an_import_back_up(tmp_path):
    # The same checker on a two-layer package whose lower layer imports the upper one.
    package = tmp_path / "toy"
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "high.py").write_text("from toy.low import base\n")
    (package / "low" / "__init__.py").write_text("")
    (package / "low" / "base.py").write_text("def f():\n    from toy import high  # inside a function, still counted\n")
    (tmp_path / "setup.cfg").write_text(textwrap.dedent("""
        [importlinter]
        root_package = toy
        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            toy.high
            toy.low
    """))
    result = lint(tmp_path)
    assert result.returncode != 0 and "toy.low.base -> toy.high" in result.stdout


def test_every_module_is_in_a_layer_and_every_command_on_top():
    named = set().union(*layers())
    top = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | \
          {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert {f"keras_gan.{name}" for name in top} == named
    commands = {f"keras_gan.{p.stem}" for p in PACKAGE.glob("*.py") if 'if __name__ == "__main__":' in p.read_text()}
    assert commands == layers()[0] == {f"keras_gan.{c}" for c in
                                       ("train", "generate", "evaluate", "translate", "upscale", "experiment", "bench",
                                        "export")}


def test_the_package_imports_nothing_of_its_own_at_import_time():
    # keras_gan/__init__.py imports its API on first use, so that `import keras_gan` stays cheap
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    imported = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert imported and not [name for name in imported if name.startswith("keras_gan")]
