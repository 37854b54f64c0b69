"""``python -m hateproto ...`` runs the CLI (also what ``accelerate launch -m hateproto`` uses)."""

from hateproto.cli.main import run

if __name__ == "__main__":
    run()
