"""Orders: basket checkout, order lifecycle, order history."""
