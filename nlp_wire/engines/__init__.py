"""Engines that run nlp_wire's own read / classify / summarize steps elsewhere (one module each).

``ray_engine``: batch classify and summarize on a Ray cluster (``pip install 'nlp_wire[ray]'``).
"""
