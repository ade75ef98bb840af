"""A WSGI app that answers every request at once with a 409, for `booking_rush.py --ceiling`:
what gunicorn and the client threads alone cost on this machine."""

BODY = b'{"code": "taken", "detail": "no-op"}'


def application(environ: dict, start_response) -> list[bytes]:  # noqa: ANN001 - WSGI callable
    environ["wsgi.input"].read()
    start_response(
        "409 Conflict",
        [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
