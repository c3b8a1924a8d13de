"""How the ``nlp-wire`` command modules hang together: main imports every command, so no command imports main."""

from __future__ import annotations

import ast
from pathlib import Path

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
