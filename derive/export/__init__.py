"""Every way out to other codes: the exporter base, one module per language, kernels."""
