"""The one sentence that says the sources do not answer a question.

A leaf module: the retriever's relevance gate returns it, the answer prompt tells
the model to write it, the engine recognises it in an answer, and the verifier
exempts it from needing a citation, so none of them can drift from the others.
"""

REFUSAL = "The retrieved sources do not address this question."
