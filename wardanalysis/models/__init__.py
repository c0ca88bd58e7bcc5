"""Statistical models of the review's questions, one module per question.

Import a model from its module, for example
``from wardanalysis.models.its import interrupted_time_series``; ``help(wardanalysis.models)``
lists the modules and each module's docstring says which question it answers. A new model is a
new module here: nothing in this package lists them. Errors are :mod:`wardanalysis.errors`'s
``ModelInputError`` kinds.
"""
