"""Data import/export subcommands of `circle` (filled in by the features)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    return None
