"""The `rathaus` command: Django management with a few friendly names.

rathaus demo            create or refresh the demo city (idempotent)
rathaus serve [addr]    run the web server (development server; see README for gunicorn)
rathaus worker          run the background worker (tasks, timers, deadlines)
rathaus import-dldb F   import a DLDB/ZMS service or location export
rathaus <anything>      any Django management command (migrate, createsuperuser, ...)
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "serve": ["runserver", "--noreload"],
    "import-dldb": ["import_dldb"],
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    if len(args) < 2 or args[1] in {"-h", "--help", "help"} and len(args) == 2:
        print(__doc__)
        return
    command, rest = args[1], args[2:]
    if command == "serve" and not rest:
        rest = ["127.0.0.1:8000"]
    execute_from_command_line([args[0], *ALIASES.get(command, [command]), *rest])


if __name__ == "__main__":
    main()
