from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.regions import REGIONS
from accounts.validators import person_name_normalize
from verification import services


class RegistrationStartForm(forms.Form):
    surname = forms.CharField(
        label=_("Surname"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    first_name = forms.CharField(
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    region = forms.ChoiceField(label=_("Region"), choices=[("", _("Choose a region")), *REGIONS])
    phone = forms.CharField(
        label=_("Mobile phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "+7 912 345-67-89"}),
    )
    email = forms.CharField(
        label=_("Email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "name@example.ru"}),
        help_text=_("Give a mobile phone, an email or both: at least one is needed."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Neither is optional on its own: one of the two is required (the help text says so).
        for name in ("phone", "email"):
            self.fields[name].one_of_contacts = True

    def clean_surname(self) -> str:
        return person_name_normalize(self.cleaned_data["surname"])

    def clean_first_name(self) -> str:
        return person_name_normalize(self.cleaned_data["first_name"])

    def clean(self):
        cleaned = super().clean()
        if "phone" in self.errors or "email" in self.errors:
            return cleaned
        try:
            cleaned["phone"], cleaned["email"] = services.contact_parse(
                phone=cleaned.get("phone", ""), email=cleaned.get("email", "")
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    self.add_error(field, errors)
            else:
                self.add_error(None, exc)
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 \\-]*",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("At least 8 characters; not a common password and not like your name, phone or email."),
    )
    password_confirm = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class RecoveryStartForm(forms.Form):
    contact = forms.CharField(
        label=_("Mobile phone or email"),
        max_length=254,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autofocus": True,
                "placeholder": _("+7 912 345-67-89 or name@example.ru"),
            }
        ),
    )


def form_add_service_error(form: forms.Form, exc: Exception) -> None:
    """Put a service's ValidationError or FlowError on the form, per field where it names one."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(exc, services.FlowError):
        form.add_error(exc.field if exc.field in form.fields else None, ValidationError(exc.message, code=exc.code))
    else:
        form.add_error(None, exc)
