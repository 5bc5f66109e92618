"""Service pages for people: which numbers a service sent codes to, and visitors' votes."""
