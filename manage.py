#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
    # A checkout with neither DEBUG nor SECRET_KEY is a developer's: its commands (makemigrations, shell, ...)
    # run in development mode. Production sets both, and DEBUG=false without a key is still refused.
    if not os.environ.get('DEBUG') and not os.environ.get('SECRET_KEY'):
        os.environ['DEBUG'] = 'true'
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
