#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torale.settings")
    from django.core.management import execute_from_command_line

    from torale.env import ImproperlyConfiguredEnv

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfiguredEnv as exc:
        # A setting from the environment or .env that cannot be used: say which, no traceback.
        sys.exit(f"Configuration error: {exc}")


if __name__ == "__main__":
    main()
