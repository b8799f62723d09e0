"""The web chat: one process's backend, its server and login, the page's turns and views.

- :mod:`.backend`: what one chat process loads once (the retriever, the engine).
- :mod:`.server`: the FastAPI app, ``/healthz``, the login wall, :func:`~.server.serve`.
- :mod:`.auth`: the users of ``LEGALRAG_AUTH`` and the signed-cookie session.
- :mod:`.turns`: the question handler, its streaming, and the Gradio layout.
- :mod:`.view`: the HTML and Markdown of an answer, its citations and sources.

Nothing is imported here, so ``legalrag.app.chat.auth`` loads without Gradio.
"""
