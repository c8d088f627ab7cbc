"""Monte Carlo of real random networks: samplers, chunked runs, Lyapunov exponents."""
