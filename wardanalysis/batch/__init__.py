"""The fiscal-year batch: parameterized notebooks executed with papermill, rendered with nbconvert."""
