from django import forms
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django_otp.plugins.otp_totp.models import default_key

from .selectors import two_step_device
from .throttling import second_step_failed
from .two_step import looks_like_authenticator_code, normalize_code, recovery_device


def _code_field(label: str, help_text: str = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=24,  # a recovery code with its dashes: abcd-efgh-ijkl-mnop
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    otp_token = _code_field(
        "Two-step login code",
        "Only if you have turned on two-step login: the 6 digits your authenticator app "
        "shows, or one of your recovery codes if you have lost the device.",
        required=False,
    )

    def confirm_login_allowed(self, user) -> None:
        """After the password: an account with two-step login also needs a right code.

        A wrong code counts towards the sign-in lock as a wrong password does; django-otp
        also throttles wrong codes per device, doubling the wait each time.
        """
        super().confirm_login_allowed(user)
        self._check_second_step(user)
        # The login hook of org policies: a password that falls short of "enforce at
        # login" sends the member to change it before anything else.
        from policies.middleware import require_password_change
        from policies.validators import password_change_needed_at_login

        password = self.cleaned_data.get("password") or ""
        if password_change_needed_at_login(user=user, password=password):
            require_password_change(self.request, user)

    def _check_second_step(self, user) -> None:
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
        try:
            user.otp_device = verify_second_step(user, device, token)
        except forms.ValidationError:
            second_step_failed(self.request, user)
            raise
        # django-otp marks the session as past the second step with `otp_device`.


def verify_second_step(user, device, typed: str):
    """An authenticator code for `device`, or one of the user's recovery codes (spent on
    use): the device that passed, else the error the user should see."""
    from .services import recovery_code_use

    code = normalize_code(typed)
    if looks_like_authenticator_code(code):
        verify_code(device, code)
        return device
    recovery = recovery_device(user)
    if recovery is not None and not recovery.verify_is_allowed()[0]:
        raise forms.ValidationError(
            "Too many wrong codes. Wait a minute, then try again.", code="throttled"
        )
    used = recovery_code_use(user=user, code=code) if recovery is not None else None
    if used is None:
        raise forms.ValidationError(
            "That recovery code is not right, or it has been used already: each works once. "
            "Check it against your saved list.",
            code="invalid_recovery_code",
        )
    return used


def verify_code(device, token: str) -> None:
    """Check a code from the user's authenticator app; raise the error they should see."""
    if not device.verify_is_allowed()[0]:
        raise forms.ValidationError(
            "Too many wrong codes. Wait a minute, then try again.", code="throttled"
        )
    if not device.verify_token("".join(token.split())):
        raise forms.ValidationError(
            "That two-step login code is not right. Check the time on your phone "
            "and enter the code shown now.",
            code="invalid_token",
        )


# The key being set up travels in the page, signed and bound to the user, so that showing
# the setup page writes nothing; it is good for as long as someone may take to scan it.
PENDING_KEY_SALT = "portal.forms.TwoStepEnableForm.pending_key"
PENDING_KEY_MAX_AGE = 30 * 60


class TwoStepEnableForm(forms.Form):
    """Turn two-step login on: the code the app shows for the key the page shows.

    The page renders `signed_key` in a hidden `pending_key` input: the key posted back
    when it is still good (the user need not scan again after a typo), else a new one.
    """

    token = _code_field("Code from your authenticator app")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        posted = self.data.get("pending_key", "") if self.is_bound else ""
        self.key = self._read_key(posted)
        self.expired = self.is_bound and self.key is None
        if self.key is None:
            self.key = default_key()
        self.signed_key = signing.dumps(
            {"user": str(user.pk), "key": self.key}, salt=PENDING_KEY_SALT
        )

    def _read_key(self, signed: str) -> str | None:
        try:
            pending = signing.loads(signed, salt=PENDING_KEY_SALT, max_age=PENDING_KEY_MAX_AGE)
        except signing.BadSignature:
            return None
        if not isinstance(pending, dict) or pending.get("user") != str(self.user.pk):
            return None
        return pending.get("key")

    def clean(self):
        cleaned = super().clean()
        if self.expired:
            raise forms.ValidationError(
                "This page was open too long. Add the new key below to your app instead, "
                "then enter the code it shows."
            )
        return cleaned


class TwoStepDisableForm(forms.Form):
    """Turn two-step login off: the password and a current code, so that an open session
    alone (a borrowed laptop, a stolen cookie) cannot remove the second step."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    token = _code_field(
        "Code from your authenticator app",
        "Or one of your recovery codes, if you have lost the device.",
    )

    def __init__(self, *args, request, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.device = device

    def clean_password(self) -> str:
        # Through authenticate(), so django-axes counts wrong passwords here as at login.
        password = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.request.user.email, password=password)
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password. Two-step login stays on.")
        return password

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if "password" in self.errors:  # after a wrong password the code is not tried
            return token
        try:
            verify_second_step(self.request.user, self.device, token)
        except forms.ValidationError:
            second_step_failed(self.request, self.request.user)  # as at sign-in
            raise
        return token


class RecoveryCodesForm(forms.Form):
    """New recovery codes: a current code from the authenticator app, so that an open
    session alone cannot read a fresh set."""

    prefix = "codes"  # its field sits on the same page as the turn-off form's
    token = _code_field("Code from your authenticator app")

    def __init__(self, *args, request, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.device = device

    def clean_token(self) -> str:
        token = normalize_code(self.cleaned_data["token"])
        try:
            if not looks_like_authenticator_code(token):
                raise forms.ValidationError(
                    "Enter the 6-digit code your authenticator app shows now.", code="format"
                )
            verify_code(self.device, token)
        except forms.ValidationError:
            second_step_failed(self.request, self.request.user)
            raise
        return token


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
