"""depsat's benchmark suite: a seeded universe generator and peers run on the same universes.

Run it from the repository root: ``.venv/bin/python -m benchmarks.run --quick``.
"""
