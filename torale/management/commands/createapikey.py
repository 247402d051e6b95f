from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from torale.models import ApiKey, User
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
        # The rules sign-up applies, so that every account can also log in to the pages.
        checks = [
            ("USERNAME", User._meta.get_field("username"), username),
            ("--name", ApiKey._meta.get_field("name"), name),
        ]
        for label, field, value in checks:
            try:
                field.clean(value, None)
            except ValidationError as exc:
                raise CommandError(f"{label} {value!r}: {' '.join(exc.messages)}") from None
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email {email!r} is not an email address") from None
        user, created = user_get_or_create(username=username, email=email)
        key, raw = api_key_create(user=user, name=name)
        if created:
            self.stderr.write(f"Created user {user.username} ({user.pk}).")
        self.stderr.write(f"API key {key.name!r} ({key.key_prefix}…) for {user.username}:")
        self.stdout.write(raw)
