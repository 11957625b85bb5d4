"""Rust language plugin for the CloudFormation CLI."""

__version__ = "0.1.0"
