"""One router per resource; each checks the caller's role and scope on every endpoint."""
