"""The domain: the fact model and the rules of sitrep, in pure Python with no I/O.

Nothing here imports another part of the project, a database driver or discord.py: every other
layer builds on these types, so the rules they state hold wherever the data is stored or shown.
"""
