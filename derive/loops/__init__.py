"""Loop corrections: diagram values, correlators in 1/N, depth scales at finite width,
and the exact linear-network routes that check them."""
