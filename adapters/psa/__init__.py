"""PSA clients behind `core.psa.Psa`. ConnectWise Manage first (R34)."""

from adapters.psa.connectwise import ConnectWiseClient

__all__ = ["ConnectWiseClient"]
