"""CSV and JSON Lines of the filtered events, written row by row (formats); the route is service/export.py."""
