"""The plan as YAML, and the answer engine. Pure Python: never imports telegram."""
