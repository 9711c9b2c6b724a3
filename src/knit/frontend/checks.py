"""Static checks run when a procedure is defined (placeholder until checks land)."""


def check_proc(proc) -> None:
    pass
