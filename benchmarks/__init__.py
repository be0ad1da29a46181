"""sitrep's performance figures: latency, event-loop stalls, memory, start-up and build time.

Not tests: timings depend on the machine, so they are printed beside their targets (PASS/FAIL)
rather than asserted. ``make bench`` (``python -m benchmarks``) runs everything and writes the
table to ``benchmarks/results.md``; the modules can also be run one by one (see each docstring).
"""
