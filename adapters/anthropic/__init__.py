"""The assistant port on Anthropic's Messages API (R16, R32, R33)."""

from adapters.anthropic.client import AnthropicAssistant

__all__ = ["AnthropicAssistant"]
