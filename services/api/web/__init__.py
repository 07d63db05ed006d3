"""The staff's web pages, shared by every service that shows one: sign-in and
sessions, CSRF, the security headers, GOV.UK Frontend's assets and the page layout.
Each service renders its own pages with ``pages_for`` (docs/web.md)."""
