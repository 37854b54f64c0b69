"""Packaged YAML configs (``general.yaml``: the general detector recipe)."""
