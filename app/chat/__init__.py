"""The web chat: one process's backend, its server and login, the page and its turns.

- :mod:`.backend`: what one chat process loads once (the retriever, the engine).
- :mod:`.server`: the FastAPI app, ``/healthz``, uploads refused, :func:`~.server.serve`.
- :mod:`.health`: the readiness probe, kept a few seconds.
- :mod:`.auth`: the users of ``LEGALRAG_AUTH``, the session secret, the sign-in form.
- :mod:`.login`: the login wall, the sign-in and sign-out routes, the signed session.
- :mod:`.sessions`: session ids and the sign-outs that revoke them.
- :mod:`.throttle`: wrong passwords lock a user name and an address, doubling.
- :mod:`.blocks`: the Gradio layout.
- :mod:`.options`: the search options of a question, checked.
- :mod:`.turns`: the question handler and its streaming.
- :mod:`.view`: the HTML and Markdown of an answer, its citations and sources.
- ``static/``: the page's CSS and JavaScript, read when the server starts.

Nothing is imported here, so ``legalrag.app.chat.auth`` loads without Gradio.
"""
