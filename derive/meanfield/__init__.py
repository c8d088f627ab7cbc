"""Mean-field theory: the length and correlation maps, fixed points, the chi's,
depth scales, criticality and the phase diagram."""
