"""SMTP submission: aiosmtpd on the STARTTLS and implicit-TLS ports."""
