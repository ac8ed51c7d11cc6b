"""The event vocabulary shared by every stage: types, dense codes for the model, and sample weights."""

from __future__ import annotations

EVENT_TYPES = ("view", "click", "fav", "cart", "purchase", "search")
# Dense codes fed to the user tower; 0 is padding.
EVENT_CODES = {name: i + 1 for i, name in enumerate(EVENT_TYPES)}
# Training sample weight of a next-interaction target by its event type (a purchase counts more).
EVENT_WEIGHTS = {"view": 1.0, "click": 1.0, "fav": 2.0, "cart": 3.0, "purchase": 5.0, "search": 0.0}
# Events that name an item and therefore enter behaviour sequences.
ITEM_EVENTS = ("view", "click", "fav", "cart", "purchase")

# Canonical landing columns (CSV header order). Every source adapter produces exactly these.
EVENT_COLUMNS = ("event_id", "user_id", "item_id", "event_type", "ts", "session_id", "query", "value")
ITEM_COLUMNS = ("item_id", "title", "category", "tags", "brand", "price", "in_stock", "updated_at")
CATEGORY_SEPARATOR = " > "
TAG_SEPARATOR = "|"
