"""One module per command family; each exposes ``commands``, a list of click commands.

Modules here import only click at top level: sympy, numpy and networkx are imported
inside the command bodies so that ``nnqft --help`` stays instant.
"""
