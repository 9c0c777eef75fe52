#!/bin/bash
# Creates graphite-web's Django superuser root/root unless it exists (the real image's default account).
/opt/graphite/bin/python3 /opt/graphite/bin/django-admin.py shell <<'PY'
from django.contrib.auth import get_user_model
User = get_user_model()
if not User.objects.filter(username="root").exists():
    User.objects.create_superuser("root", "root.graphite@mailinator.com", "root")
PY
