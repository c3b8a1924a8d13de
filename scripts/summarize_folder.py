#!/usr/bin/env python
"""Summarize every story in a folder: the same as ``nlp-wire summarize PATH --out OUT [...]``.

    python scripts/summarize_folder.py ../shared/data/korea_dev --out runs/korea_dev.jsonl --workers 2
"""

import sys

from nlp_wire.cli.main import main

if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):  # the usage below is the command's: leave out what this script fills in
        print(f"{sys.argv[0]} is `nlp-wire summarize ARGS`; the options are that command's:\n")
    sys.exit(main(["summarize", *sys.argv[1:]]))
