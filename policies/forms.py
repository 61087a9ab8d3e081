from django import forms


class PolicyEnabledForm(forms.Form):
    """On or off; the type's own settings form sits beside it on the page."""

    enabled = forms.BooleanField(label="Turn on this policy", required=False)


class UnlockForm(forms.Form):
    """The password again, after a vault timeout locked the session."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        from django.contrib.auth import authenticate

        # Through authenticate(), so django-axes counts wrong passwords here as at login.
        password = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.request.user.email, password=password)
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password.")
        return password


class RecoveryEnrollmentForm(forms.Form):
    enroll = forms.TypedChoiceField(
        choices=[("1", "Enrol"), ("0", "Withdraw")], coerce=lambda value: value == "1"
    )
