"""Role adapters for keras_hub 0.32 families (placeholder until the table lands)."""
FAMILIES = []
