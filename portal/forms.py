from django import forms
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm

from .selectors import two_step_device


def _code_field(label: str, help_text: str = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=12,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    otp_token = _code_field(
        "Two-step login code",
        "Only if you have turned on two-step login: the 6 digits your authenticator app shows.",
        required=False,
    )

    def confirm_login_allowed(self, user) -> None:
        """After the password: an account with two-step login also needs a right code.

        django-otp throttles wrong codes per device, doubling the wait each time.
        """
        super().confirm_login_allowed(user)
        device = two_step_device(user)
        if device is None:
            return
        token = "".join(self.cleaned_data.get("otp_token", "").split())
        if not token:
            raise forms.ValidationError(
                "Two-step login is on for this account: enter the code from your "
                "authenticator app too.",
                code="token_required",
            )
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            raise forms.ValidationError(
                "Too many wrong codes. Wait a minute, then try again.", code="throttled"
            )
        if not device.verify_token(token):
            raise forms.ValidationError(
                "That two-step login code is not right. Check the time on your phone "
                "and enter the code shown now.",
                code="invalid_token",
            )


class TwoStepConfirmForm(forms.Form):
    token = _code_field("Code from your authenticator app")


class TwoStepDisableForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        # Through authenticate(), so django-axes counts wrong passwords here as at login.
        password = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.request.user.email, password=password)
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password. Two-step login stays on.")
        return password


class NewAccountForm(forms.Form):
    """Set a password for a new account created from an invitation."""

    name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            user = get_user_model()(email=self.email, name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
