"""The Django project: settings, URLs, the API root, the base templates and the dashboard."""
