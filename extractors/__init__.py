"""Pure extraction functions."""
