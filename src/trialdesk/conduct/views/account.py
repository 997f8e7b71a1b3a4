"""The user's own password change: the only way a password becomes one that can sign."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "conduct/password_change.html"
    success_url = reverse_lazy("conduct:home")

    def form_valid(self, form):  # noqa: ANN001, ANN201
        from django.contrib import messages

        from trialdesk.conduct.models import AccessEvent
        from trialdesk.conduct.services.signing import record_own_password

        response = super().form_valid(form)
        record_own_password(self.request.user)
        AccessEvent.objects.create(kind="password_changed", username=self.request.user.username)
        messages.success(self.request, "Password changed.")
        return response
