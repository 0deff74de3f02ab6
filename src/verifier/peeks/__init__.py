"""Who looked at a household's personal data (查阅留痕): each deliberate look recorded, and the list of them."""
