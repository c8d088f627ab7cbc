"""Which diagrams exist: generation, canonical forms, symmetry factors, drawing."""
