"""A run's outcome: finish reasons, exit statuses and the run summary."""
