"""PSA adapters behind `core.ports.psa`. ConnectWise Manage first (R34)."""

from adapters.psa.connectwise import ConnectWiseClient, ConnectWiseProvider

__all__ = ["ConnectWiseClient", "ConnectWiseProvider"]
