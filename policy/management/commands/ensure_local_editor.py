import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "editor"


class Command(BaseCommand):
    help = (
        "Make sure a local editor account exists and print how to log in. The password is "
        "generated on first use and kept in .local-editor-password, outside git."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_local_editor is for local development and needs DEBUG on.")
        password_file = settings.BASE_DIR / ".local-editor-password"
        user_model = get_user_model()
        user = user_model.objects.filter(username=USERNAME).first()
        known_password = password_file.read_text().strip() if password_file.exists() else ""

        if user is None:
            known_password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(USERNAME, password=known_password)
            password_file.write_text(known_password)
            password_file.chmod(0o600)
        elif not (known_password and user.check_password(known_password)):
            self.stdout.write(
                f"Log in at http://127.0.0.1:8000/admin/ as “{USERNAME}”. "
                f"Forgot the password? Set a new one with: .venv/bin/python manage.py "
                f"changepassword {USERNAME}"
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at http://127.0.0.1:8000/admin/ as “{USERNAME}” with the password "
                f"“{known_password}” (kept in {password_file.name}, which git ignores)."
            )
        )
