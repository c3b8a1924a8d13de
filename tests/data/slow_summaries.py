"""Summaries slowed by a fixed pause per story, for tests that interrupt or kill a run in a subprocess.

At a few milliseconds a story, the run is certain to be still going when the test's signal lands, on
any machine, so such a test never has to skip because the run ended first. Paused in ``time.sleep``, the
rate of work is known whatever the load: a test can bound the work done after its signal.

``python slow_summaries.py SECONDS ARGS...`` runs ``nlp-wire ARGS...`` so; in Python, :func:`install`.
"""

import multiprocessing
import sys
import time


def install(seconds: float) -> None:
    """Pause ``seconds`` before each story's summary, in this process and in the workers it forks."""
    from nlp_wire.summarize import batch

    multiprocessing.set_start_method("fork", force=True)  # the workers inherit the slowed summarizer
    real = batch.get_summarizer

    def slowed(name):
        summarize = real(name)

        def run(story, n):
            time.sleep(seconds)
            return summarize(story, n)

        return run

    batch.get_summarizer = slowed


if __name__ == "__main__":
    install(float(sys.argv[1]))
    from nlp_wire.cli.main import main

    sys.exit(main(sys.argv[2:]))
