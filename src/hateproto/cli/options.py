"""Help texts that several commands share (no heavy imports: the root help reads them)."""

DEVICE_HELP = "auto (a GPU when torch sees one), cpu, cuda or cuda:N."
"""Help of every ``--device`` option."""
COMPILE_HELP = (
    "Compile the forward pass with CUDA graphs (GPU; the first batch of each length pays "
    "seconds to compile, so it pays for long runs and services)."
)
"""Help of every ``--compile`` option."""
