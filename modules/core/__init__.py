"""The shared kernel every module may import: errors, the principal, the database handle, scalars."""
