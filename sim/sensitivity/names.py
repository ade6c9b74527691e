"""Names shared by a study's sampling (:mod:`sim.sensitivity.study`) and its report
(:mod:`sim.sensitivity.report`), so that neither imports the other for them."""

SEED_FACTOR = "seed_stream"  # name of the seed pseudo-factor
