// Project behaviour, loaded from our own static files (no inline scripts: strict CSP).
