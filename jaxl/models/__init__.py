"""Flax networks, distrax policy distributions and the factory that builds them from config."""

from jaxl.models.factory import ActionSpec, Networks, make_networks
from jaxl.models.networks import MLP, PolicyNetwork, ValueNetwork
from jaxl.models.policies import PolicyHead

__all__ = [
    "MLP",
    "ActionSpec",
    "Networks",
    "PolicyHead",
    "PolicyNetwork",
    "ValueNetwork",
    "make_networks",
]
