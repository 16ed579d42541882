"""The report, its figures, the documentation site's results page and the shortcut comparison."""
