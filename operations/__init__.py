"""What spans the apps: cross-app commands, health checks and retention."""
