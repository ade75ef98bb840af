from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """The standard login form; axes needs the request, which AuthenticationForm passes on."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "class": "kern-form-input__input"}
        )
        self.fields["password"].widget.attrs.update(
            {"autocomplete": "current-password", "class": "kern-form-input__input"}
        )
