"""Customer support: the chat assistant endpoint and support tickets."""
