"""`make experiment`: named configurations, the runner that trains, scores and draws them, and the
report (README.md beside this file)."""
