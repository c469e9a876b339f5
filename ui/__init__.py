"""The Telegram side: settings, texts, buttons, dialog states, the screen kit."""
