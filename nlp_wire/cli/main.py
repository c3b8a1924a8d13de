"""Entry point of ``nlp-wire``: dispatches to one module per subcommand.

Every error a user can cause (bad paths, bad files, bad configs) ends as one clear line on stderr
and a non-zero exit code, never a traceback. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys

from .errors import UserError  # also imported from here by older code: keep the name

# Subcommand name -> module under nlp_wire.cli. Each module defines add_parser(sub) and run(args) -> int.
COMMANDS = {
    "label": "label",
    "train": "train",
    "evaluate": "evaluate",
    "ensemble": "ensemble",
    "classify": "classify",
    "summarize": "summarize",
    "demo": "demo",
    "models": "models",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nlp-wire", description="Label, classify and summarize news-wire stories.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"nlp-wire {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"nlp_wire.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"nlp_wire.cli.{module}":
                continue  # subcommand not built yet
            raise
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if "--debug" not in (sys.argv[1:] if argv is None else argv):
        # The libraries' own bars ("Map:", "Loading weights") are noise beside ours; --debug keeps them.
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    for flag in ("--debug", "-q", "--quiet"):  # global flags are accepted after the subcommand too
        if flag in argv[1:] and argv.index(flag) > 0:
            argv.remove(flag)
            argv.insert(0, flag)
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO
    root = logging.getLogger()
    configure = not root.handlers  # as basicConfig: a program that set up logging keeps its own
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if configure and not args.debug:  # our INFO lines; the libraries' (56 from ONNX Runtime on --onnx --int8) only
        for handler in root.handlers:  # with --debug
            handler.addFilter(lambda record: record.name.partition(".")[0] == "nlp_wire"
                              or record.levelno >= logging.WARNING)
    from ..classify.base import ModelLoadError
    from ..config import ConfigError
    from ..story import WireFormatError
    from ..workers import WorkerDied, sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # a scheduler's stop is handled as Ctrl-C is
            return int(args._run(args) or 0)
    except KeyboardInterrupt as exc:  # nlp_wire.workers.Interrupted says what was kept and how to go on
        print(f"nlp-wire {args.command}: {str(exc) or 'interrupted'}", file=sys.stderr)  # a bare Ctrl-C has no text
        return 128 + getattr(exc, "signum", signal.SIGINT)  # 130 (Ctrl-C) or 143 (SIGTERM), as a shell gives
    except (FileExistsError, NotADirectoryError) as exc:  # an output path under (or onto) a file
        _traceback(args)
        print(f"nlp-wire {args.command}: error: {exc.filename}: a file is in the way (an output folder was "
              "expected there, or a path in it is a file)", file=sys.stderr)
        return 2
    except (UserError, ConfigError, WireFormatError, ModelLoadError, FileNotFoundError, PermissionError,
            ValueError) as exc:
        _traceback(args)
        print(f"nlp-wire {args.command}: error: {_said(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except (WorkerDied, OSError) as exc:  # a killed worker, a full disk: not the user's input, but no bug either
        _traceback(args)
        print(f"nlp-wire {args.command}: error: {_said(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # last resort: still one line, with how to see more
        _traceback(args)
        print(f"nlp-wire {args.command}: unexpected {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return 1


def _said(exc: BaseException) -> str:
    """An error's text for users: an OS error without Python's ``[Errno 28]`` and quotes (``x: No space left on
    device``; our own messages, ``OSError(errno, "cannot write OUT: ...")``, as written)."""
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename is None:
            return exc.strerror
        return f"{exc.filename}{f' -> {exc.filename2}' if exc.filename2 is not None else ''}: {exc.strerror}"
    return str(exc)


def _traceback(args) -> None:
    """With --debug, the traceback of the error being handled; the exit code stays the one without --debug
    (scripts that test for 2, a user error, must not see 1)."""
    if args.debug:
        import traceback

        traceback.print_exc()


if __name__ == "__main__":
    sys.exit(main())
