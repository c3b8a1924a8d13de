#!/usr/bin/env python
"""Summarize every story in a folder: the same as ``nlp-wire summarize PATH --out OUT [...]``.

    python scripts/summarize_folder.py ../shared/data/korea_dev --out runs/korea_dev.jsonl --workers 2
"""

import sys

from nlp_wire.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["summarize", *sys.argv[1:]]))
