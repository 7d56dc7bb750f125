"""What the stored verdicts mean: the one outcome definition, rates with their intervals,
paired regression tests, and how far a judge agrees with people (calibration)."""
