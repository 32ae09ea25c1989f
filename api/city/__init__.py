"""A whole city's day, decomposed into pieces (matching per district, routing per supplier)
that run on Dask, are kept in the store by a hash of their inputs and re-solved only when
those inputs change."""
