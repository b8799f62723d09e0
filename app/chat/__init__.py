"""The web chat: one process's backend, its server and login, the page and its turns.

- :mod:`.backend`: what one chat process loads once (the retriever, the engine).
- :mod:`.server`: the FastAPI app, ``/healthz``, the login wall, :func:`~.server.serve`.
- :mod:`.auth`: the users of ``LEGALRAG_AUTH`` and the signed-cookie session.
- :mod:`.blocks`: the Gradio layout.
- :mod:`.turns`: the question handler and its streaming.
- :mod:`.view`: the HTML and Markdown of an answer, its citations and sources.
- ``static/``: the page's CSS and JavaScript, read when the server starts.

Nothing is imported here, so ``legalrag.app.chat.auth`` loads without Gradio.
"""
