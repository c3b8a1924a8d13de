"""How the ``nlp-wire`` command modules hang together: main imports every command, so no command imports main."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nlp_wire.cli
from nlp_wire.cli import errors, main

CLI = Path(nlp_wire.cli.__file__).parent


def test_user_error_lives_in_errors_and_main_still_exports_it():
    assert main.UserError is errors.UserError
    assert main.main(["summarize", str(CLI / "no such folder"), "--out", "x.jsonl"]) == 2  # printed, not raised


def test_no_command_module_imports_main():
    for path in sorted(CLI.glob("*.py")):
        imports = [node.module for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.ImportFrom) and node.level == 1]
        assert "main" not in imports, path.name


def test_building_the_parser_reads_no_sample_data():
    # every nlp-wire command builds every subcommand's parser: demo looked up its samples there, at import
    import subprocess
    import sys

    code = ("import nlp_wire.resources as r\n"
            "def refuse(*a, **k): raise AssertionError('sample_stories called')\n"
            "r.sample_stories = refuse\n"
            "from nlp_wire.cli.main import build_parser\n"
            "print(build_parser().parse_args(['demo']).stories)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=CLI.parents[1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "None\n"


def test_a_bare_ctrl_c_says_interrupted(monkeypatch, capsys):
    from nlp_wire.cli import label

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(label, "run", interrupted)
    assert main.main(["label", str(CLI)]) == 130
    assert capsys.readouterr().err.strip() == "nlp-wire label: interrupted"  # was "nlp-wire label: "


def test_library_info_logs_stay_quiet_without_debug(monkeypatch, capsys):
    """ONNX Runtime's quantizer and optimizer logged 56 INFO lines on a --onnx --int8 run; ours stay."""
    import logging

    import nlp_wire.cli.models as models

    def run(args):
        logging.getLogger("onnxruntime.fusion_base").info("Fused Gelu: 6")
        logging.getLogger("nlp_wire.classify").info("runtime auto: ours")
        return 0

    monkeypatch.setattr(models, "run", run)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # main configures a bare root logger only, as basicConfig does
    monkeypatch.setattr(root, "level", root.level)
    for argv, fused in ((["models"], False), (["--debug", "models"], True)):
        root.handlers = []
        assert main.main(argv) == 0
        err = capsys.readouterr().err
        assert "runtime auto: ours" in err and ("Fused Gelu" in err) == fused


def test_wrapper_scripts_say_which_command_their_help_is():
    """scripts/train_baseline.py --help showed 'nlp-wire train ... {baseline,minilm}': following it failed."""
    import subprocess
    import sys

    scripts = Path(__file__).resolve().parents[1] / "scripts"
    for script, command in (("train_baseline.py", "nlp-wire train baseline ARGS"), ("evaluate.py", "nlp-wire evaluate ARGS")):
        out = subprocess.run([sys.executable, str(scripts / script), "--help"], capture_output=True, text=True,
                             check=True).stdout
        assert out.splitlines()[0].endswith(f"is `{command}`; the options are that command's:"), out[:200]


def test_summary_lines_count_in_the_right_number():
    from nlp_wire.outputs import counted

    assert [counted(1, "story"), counted(0, "story"), counted(1200, "story")] == ["1 story", "0 stories", "1,200 stories"]
    assert [counted(1, "bad input"), counted(2, "bad input"), counted(2, "day")] == ["1 bad input", "2 bad inputs", "2 days"]
    assert counted(3, "analysis", "analyses") == "3 analyses"


def test_ci_runs_the_readmes_test_command():
    """The README's second command is what CI runs: the same extras, so a developer runs the same tests (with
    only '.[test]', the whole Ray module was skipped)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    command = next(line.strip() for line in readme.splitlines() if "python -m pytest -q" in line and "pip install" in line)
    assert command in (root / ".ci" / "run").read_text(encoding="utf-8")


def test_version_flag_prints_the_package_version(capsys):
    """`nlp-wire --version` said "the following arguments are required: COMMAND"."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"nlp-wire {version('nlp_wire')}"
