"""Pages for site staff (Django admin is for administrators only)."""
