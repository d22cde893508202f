"""The portal's own date formats per language (`FORMAT_MODULE_PATH`), where Django's would
mislead its readers."""
