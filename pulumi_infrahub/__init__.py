"""Hyperstack (Infrahub API) infrastructure as Python programs run by Pulumi."""
