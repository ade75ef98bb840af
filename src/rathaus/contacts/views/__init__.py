"""The contacts app's pages, one module per area: `desk` (the KC desk and callbacks), `cases`
(the department inbox and the case page), `mail` (the e-mail queue, the .eml upload, the
quarantine and the mailbox settings) and `citizen` (the citizen status page). `urls` imports
the modules; no other code imports a view.
"""
