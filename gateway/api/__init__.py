"""The HTTP API and web pages. Importing this package loads no Flask: `app.build_app` does."""
