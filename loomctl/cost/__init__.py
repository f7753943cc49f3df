"""Cost estimate: model, price lists, Retail Prices API client."""
