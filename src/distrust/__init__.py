"""distrust: use MCP servers without trusting them."""

__version__ = "0.1.0"
