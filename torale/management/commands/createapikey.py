from django.core.management.base import BaseCommand

from torale.services import api_key_create, user_get_or_create


class Command(BaseCommand):
    help = (
        "Create an API key for USERNAME (creating the user if needed). "
        "The key is printed as the last line and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label for the key (default: cli)")
        parser.add_argument("--email", default="", help="E-mail for a newly created user")

    def handle(self, *args, username, name, email, **options):
        user, created = user_get_or_create(username=username, email=email)
        key, raw = api_key_create(user=user, name=name)
        if created:
            self.stderr.write(f"Created user {user.username} ({user.pk}).")
        self.stderr.write(f"API key {key.name!r} ({key.key_prefix}…) for {user.username}:")
        self.stdout.write(raw)
