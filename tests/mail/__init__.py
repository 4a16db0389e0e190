"""Issue 5: email both ways, against real Dovecot, PostgreSQL and SMTP servers."""
