"""Operations' management commands (Django's layout)."""
