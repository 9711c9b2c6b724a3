"""Exo's `exo.core` names that user code imports (memories and their errors)."""
