"""Code generators: knit IR -> target source. `knit.backend.c` is the C backend."""
