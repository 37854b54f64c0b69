"""Help texts that several commands share (no heavy imports: the root help reads them)."""

DEVICE_HELP = "auto (a GPU when torch sees one), cpu, cuda or cuda:N."
"""Help of every ``--device`` option."""
