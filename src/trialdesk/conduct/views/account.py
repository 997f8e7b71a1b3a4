"""The user's own password change (the only way a password becomes one that can sign) and,
after a reset, the confirmation of identity with the administrator's one-time code."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "conduct/password_change.html"
    success_url = reverse_lazy("conduct:home")

    def form_valid(self, form):  # noqa: ANN001, ANN201
        from trialdesk.conduct.models import AccessEvent
        from trialdesk.conduct.services.signing import record_own_password

        form.user._own_password_change = True  # not a reset (conduct/access_log.py)
        response = super().form_valid(form)
        record_own_password(self.request.user)
        AccessEvent.objects.create(kind="password_changed", username=self.request.user.username)
        messages.success(self.request, "Password changed.")
        return response


class IdentityForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label="One-time code from the administrator",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def confirm_identity(request: HttpRequest) -> HttpResponse:
    """After a password reset: the user enters the code the administrator was shown."""
    from trialdesk.conduct.errors import ConductError
    from trialdesk.conduct.services.signing import confirm_identity as confirm
    from trialdesk.conduct.services.signing import open_identity_check

    check = open_identity_check(request.user)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and check is not None and form.is_valid():
        try:
            confirm(request.user, form.cleaned_data["code"])
        except ConductError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, "Identity confirmed.")
            return redirect("conduct:home")
    return render(request, "conduct/identity.html", {"form": form, "check": check})
