"""What a reader opens: the report pages rendered from executed notebooks (:mod:`~.render`), the
front page (:mod:`~.front`) and the run log (:mod:`~.runlog`)."""
