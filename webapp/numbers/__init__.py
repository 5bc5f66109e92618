"""People's side: HTML pages of countries and numbers."""
