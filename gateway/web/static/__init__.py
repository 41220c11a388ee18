"""Web page assets (templates and static files), packaged with the gateway."""
